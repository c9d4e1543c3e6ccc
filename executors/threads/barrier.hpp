#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>

#include "executors/threads/detail/deadline.hpp"

namespace weft
{

/// Python's threading.Barrier for OS threads: wait() blocks until `parties` threads are
/// waiting, then all of them return and the barrier can be used again. (std::barrier has no
/// timeout, abort, reset, broken state or arrival index, hence this type.)
///
/// wait() returns the arrival index, 0 for the first thread to arrive and parties - 1 for the
/// last. The action, if any, runs once per trip in the last thread to arrive, before anyone is
/// released; threads arriving for the next round meanwhile wait for this one to drain. The
/// action runs without the barrier's internal mutex held, so it may call abort(), reset() and
/// the observers.
///
/// Broken state: abort(), a wait() that times out, and an action that throws break the
/// barrier: every current waiter and every later wait() throws weft::broken_barrier_error
/// until reset(); the thread whose action threw gets that exception instead. reset() returns
/// the barrier to its empty state; threads waiting at that moment throw broken_barrier_error.
///
/// Timeouts: wait() uses the default timeout given to the constructor; none or negative
/// means forever.
///
/// Threading: every member may be called from any thread. Immovable; it must outlive its
/// waiters.
class barrier
{
  public:
    /// A barrier for `parties` threads, with an optional action and default wait() timeout.
    /// Throws std::invalid_argument when parties < 1 (Python 3.13's ValueError).
    explicit barrier(std::ptrdiff_t parties, std::function<void()> action = {},
                     std::chrono::nanoseconds timeout = std::chrono::nanoseconds(-1));
    barrier(const barrier&) = delete;
    barrier& operator=(const barrier&) = delete;
    ~barrier() = default;

    /// Blocks until `parties` threads wait (or the default timeout passes); returns this
    /// thread's arrival index. Throws weft::broken_barrier_error when the barrier is or
    /// becomes broken (a timeout breaks it), and the action's exception in the thread that
    /// ran it.
    std::size_t wait() { return wait_until(detail::deadline::after(m_timeout)); }

    /// As wait(), with `timeout` (negative: forever) instead of the default one.
    template <class Rep, class Period>
    std::size_t wait(std::chrono::duration<Rep, Period> timeout)
    {
        return wait_until(detail::deadline::after(timeout));
    }

    /// Returns the barrier to its empty, unbroken state; threads waiting now throw
    /// broken_barrier_error.
    void reset();
    /// Breaks the barrier: current and later waiters throw broken_barrier_error until reset().
    void abort();

    [[nodiscard]] bool broken() const;
    /// Threads blocked in wait() for the current round.
    [[nodiscard]] std::size_t n_waiting() const;
    [[nodiscard]] std::size_t parties() const noexcept { return m_parties; }

  private:
    // Python's states, plus `tripping` while the last arrival runs the action unlocked.
    enum class phase
    {
        filling,   // accepting arrivals
        tripping,  // all arrived; the action runs
        draining,  // released; the last one out re-opens it
        resetting, // reset() with waiters inside; the last one out re-opens it
        broken,
    };

    std::size_t wait_until(detail::deadline when);
    void leave() noexcept;
    void break_barrier() noexcept;

    std::function<void()> m_action;
    std::chrono::nanoseconds m_timeout;
    std::size_t m_parties;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed; // signalled on every phase change
    phase m_phase = phase::filling;    // guarded by m_mutex
    std::size_t m_count = 0;           // threads inside wait(), guarded by m_mutex
};

} // namespace weft
