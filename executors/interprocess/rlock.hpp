#pragma once

#include <chrono>
#include <cstddef>
#include <new>

#include "executors/interprocess/detail/robust_lock.hpp"
#include "executors/interprocess/guard.hpp"

namespace weft::interprocess
{

class condition;

/// Python's multiprocessing.RLock: a lock shared by processes that its holder (a thread of one
/// process) may acquire again; free once released as many times. Travels and lives as
/// interprocess::lock, and is robust the same way: a holder that dies does not leave it held,
/// the next acquirer is told (acquired::owner_died()). Release by a thread that does not hold
/// it throws invalid_state_error ("cannot release un-acquired lock").
///
/// The default lock of shared_value, shared_array and interprocess::condition. Meets Lockable
/// and TimedLockable (std::lock_guard, std::unique_lock, std::scoped_lock).
class rlock : public weft::detail::robust_lock
{
  public:
    /// A new lock in new shared memory. Throws std::system_error when none can be made.
    rlock() : robust_lock(true) {}

    /// True when the calling thread holds it.
    [[nodiscard]] bool is_owned() const noexcept { return m_state->is_owned(); }
    /// How many times the calling thread holds it (0: not at all).
    [[nodiscard]] std::size_t recursion_count() const noexcept
    {
        return m_state->recursion_count();
    }

    /// Lockable and TimedLockable. As the standard has it (and unlike acquire()), a timeout
    /// that is negative or a time already passed tries once instead of waiting forever.
    void lock() { (void)acquire(); }
    [[nodiscard]] bool try_lock() { return acquire(false); }
    void unlock() { release(); }
    template <class Rep, class Period>
    [[nodiscard]] bool try_lock_for(std::chrono::duration<Rep, Period> timeout)
    {
        return timeout <= timeout.zero() ? try_lock() : static_cast<bool>(acquire(timeout));
    }
    template <class Clock, class Duration>
    [[nodiscard]] bool try_lock_until(std::chrono::time_point<Clock, Duration> when)
    {
        return try_lock_for(when - Clock::now());
    }

    /// Python's `with rlock:`.
    [[nodiscard]] interprocess::guard<rlock> guard() { return interprocess::guard<rlock>(*this); }

    /// For cereal: a handle that refers to nothing until loaded.
    explicit rlock(weft::detail::unloaded_t) noexcept {}

    /// The state of a lock kept inside another object's memory (shared_value's own lock).
    using state_type = weft::detail::robust_mutex_state;
    static void init_state(state_type* state)
    {
        ::new (static_cast<void*>(state)) state_type(true);
    }
    explicit rlock(weft::detail::shared_ref<state_type> state) noexcept
        : robust_lock(std::move(state))
    {
    }

  private:
    friend class condition;
    [[nodiscard]] weft::detail::robust_mutex_state& state() const noexcept { return *m_state; }
};

} // namespace weft::interprocess
