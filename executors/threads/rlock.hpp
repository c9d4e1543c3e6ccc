#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "executors/threads/detail/deadline.hpp"
#include "executors/threads/detail/guard.hpp"

namespace weft
{

class condition;

/// Python's threading.RLock: a lock owned by the thread that acquired it, which may acquire it
/// again; it is free once the owner has released it as many times as it acquired it. Only the
/// owner may release it.
///
/// Timeouts: as weft::lock (none or negative: forever; zero: poll; steady clock).
///
/// Meets Lockable and TimedLockable, so std::lock_guard, std::unique_lock and std::scoped_lock
/// play the part of Python's `with`; guard() is the same without naming a std type.
///
/// Threading: every member may be called from any thread. Immovable.
class rlock
{
  public:
    rlock() = default;
    rlock(const rlock&) = delete;
    rlock& operator=(const rlock&) = delete;
    ~rlock() = default;

    /// Acquires (again, if the caller owns it: the recursion count goes up) or, with
    /// blocking = false, tries once; returns whether the caller now owns it.
    bool acquire(bool blocking = true)
    {
        return blocking ? acquire_until(detail::deadline::never())
                        : acquire_until(detail::deadline::after(std::chrono::seconds(0)));
    }

    /// Waits at most `timeout` (negative: forever); returns false if another thread kept it.
    template <class Rep, class Period>
    bool acquire(std::chrono::duration<Rep, Period> timeout)
    {
        return acquire_until(detail::deadline::after(timeout));
    }

    /// Python's acquire(blocking, timeout). Throws std::invalid_argument when blocking is false.
    template <class Rep, class Period>
    bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout)
    {
        if (!blocking)
        {
            throw std::invalid_argument(
                "weft: rlock: can't specify a timeout for a non-blocking call");
        }
        return acquire(timeout);
    }

    /// Drops one level of recursion; the last release frees the lock and wakes one blocked
    /// acquirer. Throws weft::invalid_state_error("cannot release un-acquired lock") when the
    /// caller does not own it (another thread does, or nobody does).
    void release();

    /// True while some thread owns the lock (a snapshot).
    [[nodiscard]] bool locked() const;
    /// True when the calling thread owns the lock (Python's _is_owned()).
    [[nodiscard]] bool is_owned() const;
    /// How many times the calling thread holds the lock; 0 when it does not own it (Python's
    /// _recursion_count()).
    [[nodiscard]] std::size_t recursion_count() const;

    /// Lockable and TimedLockable.
    void lock() { acquire(); }
    [[nodiscard]] bool try_lock() { return acquire(false); }
    void unlock() { release(); }
    template <class Rep, class Period>
    [[nodiscard]] bool try_lock_for(std::chrono::duration<Rep, Period> timeout)
    {
        return acquire(timeout);
    }
    template <class Clock, class Duration>
    [[nodiscard]] bool try_lock_until(std::chrono::time_point<Clock, Duration> when)
    {
        return acquire(when - Clock::now());
    }

    /// Python's `with rlock:` as a value: acquires now, releases when the guard dies.
    [[nodiscard]] detail::guard<rlock> guard() { return detail::guard<rlock>(*this); }

  private:
    // condition releases an rlock fully while it waits and restores the count afterwards
    // (Python's _release_save / _acquire_restore).
    friend class condition;

    bool acquire_until(detail::deadline when);
    /// Frees the lock whatever its count; returns the count. The caller owns it.
    std::size_t release_all();
    /// Acquires (forever) and sets the count back to `count`.
    void acquire_restore(std::size_t count);

    mutable std::mutex m_mutex;
    std::condition_variable m_released; // signalled when the count drops to 0
    std::thread::id m_owner;            // guarded by m_mutex; id() while free
    std::size_t m_count = 0;            // guarded by m_mutex
};

} // namespace weft
