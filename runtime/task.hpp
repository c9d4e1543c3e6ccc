#pragma once

#include <coroutine>
#include <memory>
#include <stop_token>
#include <utility>

#include "runtime/detail/task_promise.hpp"
#include "runtime/errors.hpp"

namespace weft
{

/// A lazy, move-only coroutine producing a T (or T&, or nothing). It does not start until it is
/// awaited, run by event_loop::run, or spawned. `co_await task` yields the value or rethrows the
/// exception the task ended with. Destroying a task destroys its coroutine frame.
///
/// Cancellation: every task carries a std::stop_token. A task awaited by another inherits the
/// awaiting task's token unless one was set with set_stop_token; every I/O, timer and sync await
/// inside it throws operation_cancelled once the token is stopped.
template <class T = void>
class [[nodiscard]] task
{
  public:
    using promise_type = detail::task_promise<T>;
    using value_type = T;

    task() noexcept = default;
    explicit task(std::coroutine_handle<promise_type> handle) noexcept : m_handle(handle) {}
    task(task&& other) noexcept : m_handle(std::exchange(other.m_handle, {})) {}
    task& operator=(task&& other) noexcept
    {
        if (this != &other)
        {
            destroy();
            m_handle = std::exchange(other.m_handle, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() { destroy(); }

    /// True when this task holds a coroutine (it was not default-constructed or moved from).
    [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(m_handle); }
    /// True once the coroutine has run to completion (value or exception).
    [[nodiscard]] bool done() const noexcept { return m_handle && m_handle.done(); }

    /// Sets the token this task and the tasks it awaits observe. Call before the task starts.
    void set_stop_token(std::stop_token token) noexcept
    {
        if (m_handle)
        {
            m_handle.promise().set_stop_token(std::move(token));
        }
    }

    /// The token set with set_stop_token, or an empty token.
    [[nodiscard]] std::stop_token get_stop_token() const noexcept
    {
        return m_handle ? m_handle.promise().stop_token() : std::stop_token{};
    }

    /// Awaiting a temporary task yields the value itself (moved out of the frame), so that
    /// `const auto& x = co_await make();` never refers into a destroyed frame.
    auto operator co_await() && noexcept { return awaiter<true>{m_handle, {}}; }
    /// Awaiting a named task yields a reference to the value kept in its frame.
    auto operator co_await() & noexcept { return awaiter<false>{m_handle, {}}; }

    /// Gives up ownership of the coroutine frame; the caller must destroy it.
    [[nodiscard]] std::coroutine_handle<promise_type> release() noexcept
    {
        return std::exchange(m_handle, {});
    }

  private:
    template <bool by_value>
    struct awaiter
    {
        std::coroutine_handle<promise_type> m_handle;
        // Only when the task has a token of its own and the awaiting task has another one:
        // the task then stops when either does.
        std::unique_ptr<detail::stop_bridge> m_bridge;

        [[nodiscard]] bool await_ready() const
        {
            if (!m_handle)
            {
                throw invalid_state_error("weft: awaiting an empty or moved-from task");
            }
            return m_handle.done();
        }

        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting)
        {
            auto& promise = m_handle.promise();
            promise.set_continuation(awaiting);
            std::stop_token inherited = detail::stop_token_of(awaiting);
            if (!promise.stop_token().stop_possible())
            {
                promise.set_stop_token(std::move(inherited));
            }
            else if (inherited.stop_possible() && inherited != promise.stop_token())
            {
                m_bridge = std::make_unique<detail::stop_bridge>(promise.stop_token(), inherited);
                promise.set_stop_token(m_bridge->token());
            }
            return m_handle;
        }

        decltype(auto) await_resume()
        {
            if constexpr (std::is_void_v<T>)
            {
                m_handle.promise().result();
            }
            else if constexpr (std::is_reference_v<T>)
            {
                return m_handle.promise().result();
            }
            else if constexpr (by_value)
            {
                return T(std::move(m_handle.promise()).result());
            }
            else
            {
                return m_handle.promise().result();
            }
        }
    };

    void destroy() noexcept
    {
        if (m_handle)
        {
            m_handle.destroy();
            m_handle = {};
        }
    }

    std::coroutine_handle<promise_type> m_handle;
};

namespace detail
{
template <class T>
task<T> task_promise<T>::get_return_object() noexcept
{
    return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}

template <class T>
task<T&> task_promise<T&>::get_return_object() noexcept
{
    return task<T&>{std::coroutine_handle<task_promise<T&>>::from_promise(*this)};
}

inline task<void> task_promise<void>::get_return_object() noexcept
{
    return task<void>{std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}
} // namespace detail

namespace this_task
{
/// `co_await this_task::stop_token()` gives the running task's stop token.
[[nodiscard]] inline detail::current_stop_token_awaiter stop_token() noexcept
{
    return {};
}
} // namespace this_task

/// Returns `t` with its stop token set: a convenient way to run a task under a given token.
template <class T>
[[nodiscard]] task<T> with_stop_token(std::stop_token token, task<T> t) noexcept
{
    t.set_stop_token(std::move(token));
    return t;
}

} // namespace weft
