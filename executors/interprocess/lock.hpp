#pragma once

#include <new>

#include "executors/interprocess/detail/robust_lock.hpp"
#include "executors/interprocess/guard.hpp"

namespace weft::interprocess
{

/// Python's multiprocessing.Lock: a non-recursive lock shared by processes. Made in one process,
/// it reaches others by inheritance or as an argument of a process target, a pool task or an
/// initializer (every start method), or inside a shared_value; copies of the handle are the
/// same lock. Its memory goes with the last handle.
///
/// Robust: a process (or thread) that dies holding it does not leave it held. The next acquirer
/// gets it, with acquired::owner_died() set, instead of waiting forever (Python's POSIX
/// semaphores stay taken). That comes from the kernel's robust futex list, which ties the lock
/// to the thread that took it: so, unlike Python's Lock, only that thread may release it
/// (anything else throws invalid_state_error). Hand a permit between processes with a
/// semaphore(0) instead.
///
/// A second acquire by the holder blocks until its timeout (a self-deadlock without one, as in
/// Python). Timeouts as weft::lock: none or negative: forever; zero: try once.
///
/// A C++ class cannot have a member named lock(), so this one is not Lockable: use guard(), or
/// interprocess::rlock, which is.
class lock : public weft::detail::robust_lock
{
  public:
    /// A new lock in new shared memory. Throws std::system_error when none can be made.
    lock() : robust_lock(false) {}

    /// Python's `with lock:`.
    [[nodiscard]] interprocess::guard<lock> guard() { return interprocess::guard<lock>(*this); }

    /// For cereal: a handle that refers to nothing until loaded.
    explicit lock(weft::detail::unloaded_t) noexcept {}

    /// The state of a lock kept inside another object's memory (shared_value's own lock).
    using state_type = weft::detail::robust_mutex_state;
    static void init_state(state_type* state)
    {
        ::new (static_cast<void*>(state)) state_type(false);
    }
    explicit lock(weft::detail::shared_ref<state_type> state) noexcept
        : robust_lock(std::move(state))
    {
    }
};

} // namespace weft::interprocess
