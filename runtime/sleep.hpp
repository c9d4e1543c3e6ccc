#pragma once

#include <chrono>
#include <coroutine>
#include <memory>
#include <stop_token>

#include "runtime/detail/cancellable.hpp"
#include "runtime/detail/timer_heap.hpp"
#include "runtime/event_loop.hpp"

namespace weft
{
namespace detail
{

// Timers live in the loop's heap, not in the kernel: a million pending sleeps cost a million
// heap slots, and the loop's single wait carries the earliest deadline.
//
// Stop: a sleep under the loop's own token (every task that run() and spawn() start, unless it
// was given a token of its own) registers no stop callback; the loop cancels it itself when it
// is stopped (timer_node::stop_with_loop). Under any other token the stop callback is allocated
// on the heap, so that the awaiter, in every sleeping frame, stays small.
class sleep_awaiter : private timer_node, private cancellable
{
  public:
    explicit sleep_awaiter(std::chrono::steady_clock::time_point deadline) noexcept
        : m_deadline(deadline)
    {
        this->expire = &on_expire;
    }
    sleep_awaiter(sleep_awaiter&& other) noexcept : sleep_awaiter(other.m_deadline) {}
    // A frame can be destroyed while it sleeps (a loop torn down, a task destroyed unstarted by
    // its owner after a cancellation): leave nothing in the loop that points at it.
    ~sleep_awaiter()
    {
        if (m_loop != nullptr)
        {
            m_loop->remove_timer(*this);
            drop_stop_callback();
        }
    }
    sleep_awaiter(const sleep_awaiter&) = delete;
    sleep_awaiter& operator=(const sleep_awaiter&) = delete;
    sleep_awaiter& operator=(sleep_awaiter&&) = delete;

    [[nodiscard]] bool await_ready() const noexcept { return false; }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting)
    {
        m_loop = &event_loop::require_current("sleep_for/sleep_until");
        const std::stop_token& token = stop_token_ref(awaiting);
        const bool own = m_loop->is_own_token(token);
        if (token.stop_requested())
        {
            if (own)
            {
                m_loop->observe_stop();
            }
            m_cancelled = true;
            return false;
        }
        m_awaiting = awaiting;
        this->stop_with_loop = own;
        m_loop->add_timer(*this, m_deadline);
        if (!own && token.stop_possible())
        {
            try
            {
                m_stop = std::make_unique<std::stop_callback<cancel_callback>>(
                    token, cancel_callback{m_loop, this});
            }
            catch (...)
            {
                m_loop->remove_timer(*this);
                throw;
            }
        }
        return true;
    }

    void await_resume()
    {
        drop_stop_callback();
        if (m_cancelled)
        {
            throw operation_cancelled();
        }
    }

  private:
    static void on_expire(timer_node& node, bool cancelled) noexcept
    {
        auto& self = static_cast<sleep_awaiter&>(node);
        self.m_cancelled = cancelled;
        self.m_loop->schedule(self.m_awaiting);
    }

    void cancel() noexcept override
    {
        if (queued())
        {
            m_loop->remove_timer(*this);
            m_cancelled = true;
            m_loop->schedule(m_awaiting);
        }
    }

    void drop_stop_callback() noexcept
    {
        if (m_stop)
        {
            m_stop.reset();
            m_loop->forget_cancel(*this);
        }
    }

    std::chrono::steady_clock::time_point m_deadline;
    event_loop* m_loop = nullptr;
    std::coroutine_handle<> m_awaiting;
    std::unique_ptr<std::stop_callback<cancel_callback>> m_stop;
    bool m_cancelled = false;
};

} // namespace detail

/// Suspends the calling task until `deadline` (steady clock). Throws operation_cancelled if the
/// task's stop token is stopped first.
[[nodiscard]] inline detail::sleep_awaiter
sleep_until(std::chrono::steady_clock::time_point deadline)
{
    return detail::sleep_awaiter(deadline);
}

/// Suspends the calling task for at least `duration`; a zero or negative duration still yields
/// once to the loop.
template <class Rep, class Period>
[[nodiscard]] detail::sleep_awaiter sleep_for(std::chrono::duration<Rep, Period> duration)
{
    return detail::sleep_awaiter(
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration));
}

} // namespace weft
