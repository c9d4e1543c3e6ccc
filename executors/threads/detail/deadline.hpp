#pragma once
// The one timeout rule of executors/threads/: a blocking call without a timeout, or with a
// negative one, waits forever (Python's timeout=-1 / None); zero polls once; a positive one
// gives up at now + timeout on the steady clock.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace weft::detail
{

/// When a blocking call gives up: never, or at a point on std::chrono::steady_clock.
class deadline
{
  public:
    using clock = std::chrono::steady_clock;

    /// Waits forever.
    [[nodiscard]] static deadline never() noexcept { return deadline(); }

    /// Gives up `timeout` from now; a negative timeout, or one too long for the clock to
    /// represent (past a century), waits forever.
    template <class Rep, class Period>
    [[nodiscard]] static deadline after(std::chrono::duration<Rep, Period> timeout)
    {
        if (timeout < timeout.zero())
        {
            return never();
        }
        // Compared as doubles so that hours::max() or a huge floating duration cannot
        // overflow the conversion to the clock's integral nanoseconds.
        constexpr std::chrono::duration<double> horizon = std::chrono::hours(24 * 365 * 100);
        if (std::chrono::duration<double>(timeout) >= horizon)
        {
            return never();
        }
        return deadline(clock::now() + std::chrono::ceil<clock::duration>(timeout));
    }

    [[nodiscard]] bool is_never() const noexcept { return m_never; }
    /// Meaningful only when !is_never().
    [[nodiscard]] clock::time_point at() const noexcept { return m_at; }
    [[nodiscard]] bool expired() const noexcept { return !m_never && clock::now() >= m_at; }

    /// Waits on `cv` until `ready()` holds or the deadline passes; returns ready().
    template <class Ready>
    bool wait(std::condition_variable& cv, std::unique_lock<std::mutex>& held, Ready ready) const
    {
        if (m_never)
        {
            cv.wait(held, ready);
            return true;
        }
        return cv.wait_until(held, m_at, ready);
    }

  private:
    deadline() noexcept = default;
    explicit deadline(clock::time_point at) noexcept : m_at(at), m_never(false) {}

    clock::time_point m_at{};
    bool m_never = true;
};

} // namespace weft::detail
