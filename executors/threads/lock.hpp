#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include "executors/threads/detail/deadline.hpp"
#include "executors/threads/detail/guard.hpp"

namespace weft
{

/// Python's threading.Lock: a non-recursive lock that is not owned by a thread. Any thread may
/// release it, not only the one that acquired it (std::mutex forbids that, so this is built on
/// a flag under a std::mutex); a second acquire by the holder blocks, or times out.
///
/// Timeouts: acquire() without a timeout, or with a negative one, waits forever (Python's
/// timeout=-1); zero polls; a positive timeout is measured on std::chrono::steady_clock.
///
/// Threading: every member may be called from any thread. Immovable.
class lock
{
  public:
    lock() = default;
    lock(const lock&) = delete;
    lock& operator=(const lock&) = delete;
    ~lock() = default;

    /// Blocks until the lock is acquired (blocking = true) or tries once (blocking = false);
    /// returns whether the caller now holds it.
    bool acquire(bool blocking = true)
    {
        return blocking ? acquire_until(detail::deadline::never())
                        : acquire_until(detail::deadline::after(std::chrono::seconds(0)));
    }

    /// Waits at most `timeout` (negative: forever); returns false if the lock stayed held.
    template <class Rep, class Period>
    bool acquire(std::chrono::duration<Rep, Period> timeout)
    {
        return acquire_until(detail::deadline::after(timeout));
    }

    /// Python's acquire(blocking, timeout). Throws std::invalid_argument when blocking is false:
    /// a non-blocking call cannot take a timeout.
    template <class Rep, class Period>
    bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout)
    {
        if (!blocking)
        {
            throw std::invalid_argument(
                "weft: lock: can't specify a timeout for a non-blocking call");
        }
        return acquire(timeout);
    }

    /// Unlocks; the caller need not be the thread that acquired it. Wakes one blocked
    /// acquirer. Throws weft::invalid_state_error("release unlocked lock") when not locked.
    void release();

    /// True while some thread holds the lock (a snapshot).
    [[nodiscard]] bool locked() const;

    /// Python's `with lock:` as a value: acquires now, releases when the guard dies.
    ///
    /// A C++ class cannot have a member function named after itself, so weft::lock cannot have
    /// lock() and is not Lockable: std::lock_guard and std::unique_lock do not take it. Use
    /// guard(), or weft::rlock, which is Lockable.
    [[nodiscard]] detail::guard<weft::lock> guard() { return detail::guard<weft::lock>(*this); }

  private:
    bool acquire_until(detail::deadline when);

    mutable std::mutex m_mutex;
    std::condition_variable m_released; // signalled once per release()
    bool m_locked = false;              // guarded by m_mutex
};

} // namespace weft
