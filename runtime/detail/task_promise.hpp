#pragma once
// promise_type of task<T>: result slot, continuation, stop token, and the final awaiter that
// transfers control straight back to the awaiting coroutine.

#include <coroutine>
#include <exception>
#include <memory>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <variant>

namespace weft
{
template <class T>
class task;

namespace detail
{

class task_promise_base
{
  public:
    struct final_awaiter
    {
        [[nodiscard]] bool await_ready() const noexcept { return false; }

        // Symmetric transfer: returning the continuation makes the resumption a tail call, so a
        // chain of synchronously completing tasks never deepens the stack.
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept
        {
            const std::coroutine_handle<> next = self.promise().m_continuation;
            return next ? next : std::noop_coroutine();
        }

        void await_resume() const noexcept {}
    };

    [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }
    [[nodiscard]] final_awaiter final_suspend() const noexcept { return {}; }

    void set_continuation(std::coroutine_handle<> continuation) noexcept
    {
        m_continuation = continuation;
    }

    /// The token every await inside this task observes; inherited from the awaiting task when
    /// none was given.
    [[nodiscard]] const std::stop_token& stop_token() const noexcept { return m_stop_token; }
    void set_stop_token(std::stop_token token) noexcept { m_stop_token = std::move(token); }

  private:
    std::coroutine_handle<> m_continuation;
    std::stop_token m_stop_token;
};

template <class T>
class task_promise final : public task_promise_base
{
  public:
    task<T> get_return_object() noexcept;

    void unhandled_exception() noexcept { m_result.template emplace<2>(std::current_exception()); }

    template <class U>
    requires std::is_convertible_v<U&&, T>
    void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>)
    {
        m_result.template emplace<1>(std::forward<U>(value));
    }

    T& result() &
    {
        rethrow_if_failed();
        return std::get<1>(m_result);
    }

    T&& result() &&
    {
        rethrow_if_failed();
        return std::get<1>(std::move(m_result));
    }

  private:
    void rethrow_if_failed()
    {
        if (m_result.index() == 2)
        {
            std::rethrow_exception(std::get<2>(m_result));
        }
    }

    std::variant<std::monostate, T, std::exception_ptr> m_result;
};

template <class T>
class task_promise<T&> final : public task_promise_base
{
  public:
    task<T&> get_return_object() noexcept;

    void unhandled_exception() noexcept { m_exception = std::current_exception(); }
    void return_value(T& value) noexcept { m_value = std::addressof(value); }

    T& result()
    {
        if (m_exception)
        {
            std::rethrow_exception(m_exception);
        }
        return *m_value;
    }

  private:
    T* m_value = nullptr;
    std::exception_ptr m_exception;
};

template <>
class task_promise<void> final : public task_promise_base
{
  public:
    task<void> get_return_object() noexcept;

    void unhandled_exception() noexcept { m_exception = std::current_exception(); }
    void return_void() const noexcept {}

    void result() const
    {
        if (m_exception)
        {
            std::rethrow_exception(m_exception);
        }
    }

  private:
    std::exception_ptr m_exception;
};

/// A stop source that is stopped as soon as either of two tokens is.
class stop_bridge
{
  public:
    struct forward
    {
        std::stop_source* source;
        void operator()() const noexcept { source->request_stop(); }
    };

    stop_bridge(const std::stop_token& a, const std::stop_token& b)
        : m_from_a(a, forward{&m_source}), m_from_b(b, forward{&m_source})
    {
    }

    [[nodiscard]] std::stop_token token() const noexcept { return m_source.get_token(); }

  private:
    std::stop_source m_source; // declared first: the callbacks below may fire at construction
    std::stop_callback<forward> m_from_a;
    std::stop_callback<forward> m_from_b;
};

/// Awaitable whose result is the stop token of the task that awaits it.
struct current_stop_token_awaiter
{
    [[nodiscard]] bool await_ready() const noexcept { return false; }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) noexcept
    {
        if constexpr (requires { awaiting.promise().stop_token(); })
        {
            m_token = awaiting.promise().stop_token();
        }
        return false;
    }

    [[nodiscard]] std::stop_token await_resume() noexcept { return std::move(m_token); }

    std::stop_token m_token;
};

/// The stop token of the awaiting coroutine's promise, or an empty token when it has none.
template <class Promise>
[[nodiscard]] std::stop_token stop_token_of(std::coroutine_handle<Promise> handle) noexcept
{
    if constexpr (requires { handle.promise().stop_token(); })
    {
        return handle.promise().stop_token();
    }
    else
    {
        return {};
    }
}

} // namespace detail
} // namespace weft
