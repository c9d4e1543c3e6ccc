#pragma once
// The state behind weft::interprocess::lock and rlock: a process-shared, robust pthread mutex.
//
// Why pthread's robust mutex: a holder killed by SIGKILL (or a thread that exits holding it)
// must not leave the lock taken forever, which is what happens to multiprocessing's POSIX
// semaphores (SEMANTICS.md 3.14). A robust mutex is on its holder's kernel robust list; when the
// holder dies, the kernel marks the futex word FUTEX_OWNER_DIED and wakes a waiter, and the
// next acquire() takes the lock and reports owner_died.
//
// The price, and a documented difference from Python's Lock: the lock belongs to the thread
// that acquired it (the robust list is per thread), so only that thread may release it.
//
// Memory: standard layout, no pointers of ours (glibc's robust-list links inside the
// pthread_mutex_t are written and read by the holder only, in its own address space), works at
// any address, mapped at different addresses in different processes or twice in one. The
// creator placement-constructs it once; no destructor needs to run (unmapping ends it).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <pthread.h>
#include <type_traits>

namespace weft::detail
{

struct robust_mutex_state
{
    using clock = std::chrono::steady_clock;

    struct acquire_result
    {
        bool acquired;
        /// A holder died holding the lock: the caller now holds it, and the data it guards
        /// may be half-updated. The mutex itself is already consistent again.
        bool owner_died;
    };

    /// A non-recursive (Python's Lock) or recursive (RLock) mutex. Throws std::system_error if
    /// pthread refuses the attributes.
    explicit robust_mutex_state(bool recursive) { init(recursive); }
    robust_mutex_state(const robust_mutex_state&) = delete;
    robust_mutex_state& operator=(const robust_mutex_state&) = delete;

    /// The constructor's work: sets up the mutex in place. Only for fresh memory.
    void init(bool recursive);

    /// Takes the lock, blocking until `deadline` (none: forever; already passed: tries once).
    /// {true, true} when a dead holder's lock was taken over. The recursive kind counts a
    /// re-acquire by its owner; the non-recursive kind blocks its owner as Python's Lock does:
    /// until the deadline, then {false, false} (forever without one: a self-deadlock, as in
    /// Python). Throws std::system_error on an unexpected pthread error (the recursion count
    /// at its limit), weft::invalid_state_error when the mutex is not recoverable.
    acquire_result acquire(std::optional<clock::time_point> deadline);

    /// Releases once (the recursive kind: one level). Throws weft::invalid_state_error when the
    /// calling thread does not hold it, with Python's message ("release unlocked lock" /
    /// "cannot release un-acquired lock").
    void release();

    /// True while some thread of some process holds it (a snapshot of the futex word's TID).
    [[nodiscard]] bool locked() const noexcept;
    /// True when the calling thread holds it.
    [[nodiscard]] bool is_owned() const noexcept;
    /// The calling thread's recursion count: 0 when it does not hold the lock, 1 for a held
    /// non-recursive lock.
    [[nodiscard]] std::uint32_t recursion_count() const noexcept;
    [[nodiscard]] bool recursive() const noexcept { return m_recursive != 0; }

    /// Condition waits: frees the lock whatever its count and returns the count (1 for the
    /// non-recursive kind). The caller must hold it (invalid_state_error otherwise).
    std::uint32_t release_all();
    /// After an acquire by the caller (the awaitable one): gives back the `count` levels
    /// release_all took (for the recursive kind), on top of any the thread holds meanwhile.
    void restore_count(std::uint32_t count) noexcept;
    /// Takes the lock as acquire() and, when it got it, sets the count back to `count`.
    acquire_result acquire_restore(std::uint32_t count, std::optional<clock::time_point> deadline);

    // ---- Awaitable acquire support ----------------------------------------------------------
    //
    // The futex word is the kernel's robust futex ABI (Documentation/locking/robust-futex-ABI):
    //   word = holder TID (FUTEX_TID_MASK) | FUTEX_WAITERS | FUTEX_OWNER_DIED,
    // which glibc keeps in pthread_mutex_t::__data.__lock for a robust mutex. glibc's unlock
    // swaps the word to 0 and, when FUTEX_WAITERS was set, does a SHARED FUTEX_WAKE of one
    // sleeper (robust mutexes always use shared futexes); the kernel does the same when the
    // holder dies. So a waiter outside glibc (an io_uring FUTEX_WAIT on this word) is woken
    // by both, provided it set FUTEX_WAITERS before sleeping, exactly as glibc's own waiters do.

    /// The robust futex word (read-only use outside this class, besides FUTEX_WAIT on it).
    [[nodiscard]] std::atomic<std::uint32_t>& futex_word() noexcept;
    [[nodiscard]] const std::atomic<std::uint32_t>& futex_word() const noexcept;

    /// Tries once to take the lock. When it is held, sets FUTEX_WAITERS in the word (so that
    /// the holder's release, or its death, wakes a sleeper) and stores in `seen` the value to
    /// FUTEX_WAIT on; returns {false, false}. Pass `woken` = true on every try after a wait:
    /// a woken waiter that takes the lock re-sets FUTEX_WAITERS, because glibc's unlock
    /// cleared it and other sleepers may remain (glibc's waiters do the same).
    acquire_result try_acquire_for_async(std::uint32_t& seen, bool woken);

    /// For an awaitable acquire that gives up (cancelled) after it may have been woken: passes
    /// the wake-up it may have consumed on to another sleeper, which then re-checks. Harmless
    /// when there is none.
    void abandon_async_wait() noexcept;

  private:
    acquire_result finish_acquire(int rc, std::optional<clock::time_point> deadline);
    [[noreturn]] void refuse_release() const;

    pthread_mutex_t m_mutex;
    std::uint32_t m_recursive;
};

static_assert(std::is_standard_layout_v<robust_mutex_state>);

} // namespace weft::detail
