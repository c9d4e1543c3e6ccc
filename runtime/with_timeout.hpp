#pragma once

#include <chrono>
#include <stop_token>

#include "runtime/detail/awaitable_traits.hpp"
#include "runtime/detail/timer_heap.hpp"
#include "runtime/errors.hpp"
#include "runtime/event_loop.hpp"
#include "runtime/task.hpp"

namespace weft
{
namespace detail
{

// Requests stop on a stop_source when the deadline passes; removed from the heap when the
// guarded await finishes first.
class deadline_guard : private timer_node
{
  public:
    deadline_guard(event_loop& loop, std::chrono::steady_clock::time_point when,
                   std::stop_source& source)
        : m_loop(loop), m_source(source)
    {
        expire = &on_expire;
        m_loop.add_timer(*this, when);
    }
    ~deadline_guard() { m_loop.remove_timer(*this); }
    deadline_guard(const deadline_guard&) = delete;
    deadline_guard& operator=(const deadline_guard&) = delete;

    [[nodiscard]] bool fired() const noexcept { return m_fired; }

  private:
    static void on_expire(timer_node& node, bool /*cancelled: never, see stop_with_loop*/) noexcept
    {
        auto& self = static_cast<deadline_guard&>(node);
        self.m_fired = true;
        self.m_source.request_stop();
    }

    event_loop& m_loop;
    std::stop_source& m_source;
    bool m_fired = false;
};

template <class T, class Rep, class Period>
task<T> with_timeout_impl(std::chrono::duration<Rep, Period> duration, task<T> inner)
{
    const std::stop_token outer = co_await this_task::stop_token();
    std::stop_source source;
    const std::stop_token own = inner.get_stop_token();
    std::stop_callback forward_outer(outer, [&source]() noexcept { source.request_stop(); });
    // A token set on the operation itself keeps working under the deadline.
    std::stop_callback forward_own(own, [&source]() noexcept { source.request_stop(); });
    deadline_guard guard(
        event_loop::require_current("with_timeout"),
        std::chrono::steady_clock::now() +
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration),
        source);
    inner.set_stop_token(source.get_token());
    try
    {
        co_return co_await std::move(inner);
    }
    catch (const operation_cancelled&)
    {
        if (guard.fired() && !outer.stop_requested() && !own.stop_requested())
        {
            throw timeout_error("weft: with_timeout: the deadline passed before the operation "
                                "completed; it was cancelled");
        }
        throw;
    }
}

} // namespace detail

/// Awaits `awaitable` with a deadline. When `duration` passes first, the operation is cancelled
/// (in the kernel, for I/O) and timeout_error is thrown. A stop of the caller's own token still
/// surfaces as operation_cancelled. A result that arrives before the cancellation takes effect
/// is returned, never dropped.
template <class Rep, class Period, class Awaitable>
[[nodiscard]] auto with_timeout(std::chrono::duration<Rep, Period> duration, Awaitable&& awaitable)
{
    auto inner = detail::as_task(std::forward<Awaitable>(awaitable));
    using value_type = typename decltype(inner)::value_type;
    return detail::with_timeout_impl<value_type>(duration, std::move(inner));
}

} // namespace weft
