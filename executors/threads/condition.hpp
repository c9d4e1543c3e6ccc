#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>

#include "executors/threads/detail/deadline.hpp"
#include "executors/threads/detail/guard.hpp"
#include "executors/threads/lock.hpp"
#include "executors/threads/rlock.hpp"

namespace weft
{

/// Python's threading.Condition over a weft::lock or weft::rlock (by default one of its own
/// rlock). The caller must hold the lock to wait or notify; wait() releases it (an rlock fully,
/// whatever its recursion count), blocks until notified or timed out, then re-acquires it and
/// restores the count before returning.
///
/// notify(n) wakes exactly n waiters (fewer if fewer wait), oldest first; notify_all() wakes
/// every current waiter. A waiter that times out never consumes a notification meant for
/// another. Wake-ups are not spurious, but the state may have changed again by the time the
/// waiter holds the lock: test it in a loop, or use wait_for(predicate).
///
/// Timeouts: none or negative: forever; zero: poll; steady clock.
///
/// Threading: every member may be called from any thread. Immovable. The lock passed in must
/// outlive the condition.
class condition
{
  public:
    /// A condition over a new rlock of its own.
    condition();
    /// A condition over `lock`, which must outlive it.
    explicit condition(weft::lock& lock) noexcept : m_lock(&lock) {}
    /// A condition over `lock`, which must outlive it.
    explicit condition(rlock& lock) noexcept : m_rlock(&lock) {}
    condition(const condition&) = delete;
    condition& operator=(const condition&) = delete;
    ~condition();

    /// Acquires the underlying lock, as its acquire().
    bool acquire(bool blocking = true);
    template <class Rep, class Period>
    bool acquire(std::chrono::duration<Rep, Period> timeout)
    {
        return m_lock != nullptr ? m_lock->acquire(timeout) : m_rlock->acquire(timeout);
    }
    /// Releases the underlying lock, as its release().
    void release();

    /// Lockable (std::unique_lock<weft::condition> is Python's `with cond:`).
    void lock() { acquire(); }
    [[nodiscard]] bool try_lock() { return acquire(false); }
    void unlock() { release(); }
    /// Python's `with cond:` as a value.
    [[nodiscard]] detail::guard<condition> guard() { return detail::guard<condition>(*this); }

    /// Releases the lock, blocks until notified, re-acquires the lock; returns true.
    /// Throws weft::invalid_state_error("cannot wait on un-acquired lock") when the caller does
    /// not hold the lock.
    void wait() { (void)wait_until(detail::deadline::never()); }

    /// As wait(), giving up after `timeout` (negative: forever); returns false if it timed out.
    /// The lock is held again on return either way.
    template <class Rep, class Period>
    bool wait(std::chrono::duration<Rep, Period> timeout)
    {
        return wait_until(detail::deadline::after(timeout));
    }

    /// Waits until predicate() is true, testing it with the lock held first and after each
    /// wake-up; returns the predicate's last value.
    template <class Predicate>
    auto wait_for(Predicate predicate)
    {
        return wait_for_until(predicate, detail::deadline::never());
    }

    /// As wait_for(predicate), giving up after `timeout` in all (negative: forever); returns
    /// the predicate's last value, false-like when the time ran out.
    template <class Predicate, class Rep, class Period>
    auto wait_for(Predicate predicate, std::chrono::duration<Rep, Period> timeout)
    {
        return wait_for_until(predicate, detail::deadline::after(timeout));
    }

    /// Wakes up to `n` waiters, oldest first. Throws weft::invalid_state_error("cannot notify
    /// on un-acquired lock") when the caller does not hold the lock.
    void notify(std::size_t n = 1);
    /// Wakes every waiter; same precondition as notify().
    void notify_all();

  private:
    // One per blocked wait(), on its stack; linked in m_waiters while it waits.
    struct waiter
    {
        std::condition_variable wake;
        bool notified = false; // guarded by m_mutex
    };

    bool wait_until(detail::deadline when);

    template <class Predicate>
    auto wait_for_until(Predicate& predicate, detail::deadline when)
    {
        auto result = predicate();
        bool first = true;
        while (!result)
        {
            // As Python: the first wait gets the whole timeout, even zero.
            if (!first && when.expired())
            {
                break;
            }
            first = false;
            (void)wait_until(when);
            result = predicate();
        }
        return result;
    }

    [[nodiscard]] bool is_owned() const;
    // Releases the lock fully; returns what restore() needs (an rlock's count).
    std::size_t release_save();
    void acquire_restore(std::size_t saved);

    std::unique_ptr<rlock> m_own;
    weft::lock* m_lock = nullptr; // exactly one of m_lock and m_rlock is set
    rlock* m_rlock = nullptr;
    std::mutex m_mutex;           // guards m_waiters and every waiter's flag
    std::list<waiter*> m_waiters; // oldest first
};

} // namespace weft
