#pragma once
// What interprocess::lock and rlock share: a handle to a robust_mutex_state in shared memory,
// Python's acquire/release surface over it, and the awaitable acquire.

#include <chrono>
#include <optional>
#include <stdexcept>

#include "executors/interprocess/acquired.hpp"
#include "executors/interprocess/detail/robust_mutex_state.hpp"
#include "executors/processes/shippable.hpp"
#include "executors/shared/detail/shared_ref.hpp"
#include "executors/threads/detail/deadline.hpp"
#include "runtime/task.hpp"

namespace weft::detail
{

/// The deadline of executors/threads/ as the states' optional time point.
[[nodiscard]] inline std::optional<std::chrono::steady_clock::time_point>
state_deadline(deadline when) noexcept
{
    if (when.is_never())
    {
        return std::nullopt;
    }
    return when.at();
}

class robust_lock
{
  public:
    using state_type = robust_mutex_state;

    /// Acquires, blocking (blocking = true) or trying once. Converts to whether the caller now
    /// holds it; owner_died() tells that the previous holder died holding it.
    interprocess::acquired acquire(bool blocking = true)
    {
        return blocking ? acquire_until(deadline::never())
                        : acquire_until(deadline::after(std::chrono::seconds(0)));
    }

    /// Waits at most `timeout` (negative: forever).
    template <class Rep, class Period>
    interprocess::acquired acquire(std::chrono::duration<Rep, Period> timeout)
    {
        return acquire_until(deadline::after(timeout));
    }

    /// Python's acquire(blocking, timeout). Throws std::invalid_argument when blocking is false.
    template <class Rep, class Period>
    interprocess::acquired acquire(bool blocking, std::chrono::duration<Rep, Period> timeout)
    {
        if (!blocking)
        {
            throw std::invalid_argument("weft: can't specify a timeout for a non-blocking call");
        }
        return acquire(timeout);
    }

    /// Releases (one level, for an rlock). Only the thread that acquired it may: anything else
    /// throws invalid_state_error (see the class comments for why).
    void release() { m_state->release(); }

    /// True while some thread of some process holds it (a snapshot).
    [[nodiscard]] bool locked() const noexcept { return m_state->locked(); }

    /// Acquires without blocking the event loop: the coroutine sleeps on the lock's futex
    /// through io_uring (IORING_OP_FUTEX_WAIT, Linux 6.7+); on older kernels it retries every
    /// millisecond instead. The lock then belongs to the loop's thread. A stop of the awaiting
    /// task's token throws operation_cancelled (and the lock is not taken).
    [[nodiscard]] task<interprocess::acquired> async_acquire();

    /// The state in shared memory (for a condition made over this lock).
    [[nodiscard]] const shared_ref<robust_mutex_state>& state_ref() const noexcept
    {
        return m_state;
    }

    template <class Archive>
    void save(Archive& archive) const
    {
        archive(m_state);
    }
    template <class Archive>
    void load(Archive& archive)
    {
        archive(m_state);
    }

  protected:
    explicit robust_lock(bool recursive)
        : m_state(shared_ref<robust_mutex_state>::make(0, recursive))
    {
    }
    explicit robust_lock(shared_ref<robust_mutex_state> state) noexcept : m_state(std::move(state))
    {
    }
    robust_lock() noexcept = default;

    interprocess::acquired acquire_until(deadline when)
    {
        const auto result = m_state->acquire(state_deadline(when));
        return {result.acquired, result.owner_died};
    }

    shared_ref<robust_mutex_state> m_state;
};

} // namespace weft::detail
