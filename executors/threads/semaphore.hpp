#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <stdexcept>

#include "executors/threads/detail/deadline.hpp"
#include "executors/threads/detail/guard.hpp"

namespace weft
{

/// Python's threading.Semaphore: a counter that acquire() decrements, blocking while it is
/// zero, and release(n) increments. Releasing beyond the initial value is allowed (see
/// weft::bounded_semaphore for the checked form); a release remembers its permit until an
/// acquire takes it, so a signal sent before anyone waits is not lost.
///
/// Timeouts: none or negative: forever; zero: poll; steady clock. No fairness is promised
/// among blocked acquirers (as in Python).
///
/// Meets Lockable (lock = acquire, unlock = release(1)) for std::lock_guard; guard() is
/// Python's `with sem:`.
///
/// Threading: every member may be called from any thread. Immovable.
class semaphore
{
  public:
    /// A semaphore holding `value` permits. Throws std::invalid_argument when `value` is
    /// negative (Python's ValueError).
    explicit semaphore(std::ptrdiff_t value = 1) : semaphore(value, false) {}
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;
    ~semaphore() = default;

    /// Takes a permit, blocking while there is none (blocking = true) or trying once; returns
    /// whether a permit was taken.
    bool acquire(bool blocking = true)
    {
        return blocking ? acquire_until(detail::deadline::never())
                        : acquire_until(detail::deadline::after(std::chrono::seconds(0)));
    }

    /// Waits at most `timeout` (negative: forever) for a permit; false if none came.
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
                "weft: semaphore: can't specify a timeout for a non-blocking call");
        }
        return acquire(timeout);
    }

    /// Adds `n` permits and wakes up to `n` blocked acquirers. Throws std::invalid_argument
    /// when n is 0, and, for a bounded_semaphore, weft::invalid_state_error("semaphore released
    /// too many times") when the value would pass the initial one (nothing is added then).
    void release(std::size_t n = 1);

    /// The permits available now (a snapshot; Python's _value).
    [[nodiscard]] std::size_t value() const;

    /// Lockable.
    void lock() { acquire(); }
    [[nodiscard]] bool try_lock() { return acquire(false); }
    void unlock() { release(); }
    /// Python's `with sem:` as a value: acquires now, releases when the guard dies.
    [[nodiscard]] detail::guard<semaphore> guard() { return detail::guard<semaphore>(*this); }

  protected:
    /// With `bounded`, release() may never take the value past `value`.
    semaphore(std::ptrdiff_t value, bool bounded);

  private:
    bool acquire_until(detail::deadline when);

    mutable std::mutex m_mutex;
    std::condition_variable m_available; // signalled by release()
    std::size_t m_value = 0;             // guarded by m_mutex
    std::size_t m_bound = 0;             // the initial value, checked only when m_bounded
    bool m_bounded = false;
};

} // namespace weft
