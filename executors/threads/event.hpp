#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "executors/threads/detail/deadline.hpp"

namespace weft
{

/// Python's threading.Event: a flag that set() raises and clear() lowers; wait() blocks until
/// it is raised. set() wakes every waiter, and each of them returns true even if clear() runs
/// before it gets to look at the flag.
///
/// Timeouts: none or negative: forever; zero: poll; steady clock.
///
/// Threading: every member may be called from any thread. Immovable.
class event
{
  public:
    event() = default;
    event(const event&) = delete;
    event& operator=(const event&) = delete;
    ~event() = default;

    /// Raises the flag and wakes every waiter.
    void set();
    /// Lowers the flag; later wait()s block until the next set().
    void clear();
    /// The flag now (a snapshot).
    [[nodiscard]] bool is_set() const;

    /// Blocks until the flag is raised; returns true (Python's wait() with no timeout).
    bool wait() { return wait_until(detail::deadline::never()); }

    /// Blocks at most `timeout` (negative: forever); returns true if the flag was raised
    /// (now, or by a set() during the wait), false on timeout.
    template <class Rep, class Period>
    bool wait(std::chrono::duration<Rep, Period> timeout)
    {
        return wait_until(detail::deadline::after(timeout));
    }

  private:
    bool wait_until(detail::deadline when);

    mutable std::mutex m_mutex;
    std::condition_variable m_raised;
    std::uint64_t m_sets = 0; // set() calls so far: a waiter that saw it change was woken
    bool m_flag = false;      // guarded by m_mutex
};

} // namespace weft
