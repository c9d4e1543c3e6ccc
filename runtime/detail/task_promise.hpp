#pragma once
// promise_type of task<T>: result slot, continuation, stop token, and the final awaiter that
// transfers control straight back to the awaiting coroutine.

#include <concepts>
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

    [[nodiscard]] std::coroutine_handle<> continuation() const noexcept { return m_continuation; }

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

/// The links of a spawned task in its loop's list of spawned tasks (event_loop::spawn), so that a
/// loop destroyed with spawned work pending frees it. Unlinked (both null) for a task that is
/// awaited: `prev != nullptr` is what marks a task as spawned.
struct spawn_link
{
    spawn_link* prev = nullptr;
    spawn_link* next = nullptr;
};

/// Hands an exception that escaped a spawned task to the unhandled-exception handler of the
/// loop running on this thread (operation_cancelled is dropped). Defined in event_loop.cpp.
void report_spawned_exception(std::exception_ptr error) noexcept;

/// A task<void> is also what event_loop::spawn runs, without a wrapper coroutine: a spawned
/// task is linked into its loop's list, reports an escaping exception itself, and frees its own
/// frame when it finishes.
template <>
class task_promise<void> final : public task_promise_base, public spawn_link
{
  public:
    struct final_awaiter
    {
        [[nodiscard]] bool await_ready() const noexcept { return false; }

        std::coroutine_handle<> await_suspend(std::coroutine_handle<task_promise> self) noexcept
        {
            task_promise& promise = self.promise();
            if (promise.spawned())
            {
                self.destroy(); // unlinks it from the loop's list
                return std::noop_coroutine();
            }
            const std::coroutine_handle<> next = promise.continuation();
            return next ? next : std::noop_coroutine();
        }

        void await_resume() const noexcept {}
    };

    task_promise() noexcept = default;
    task_promise(const task_promise&) = delete;
    task_promise& operator=(const task_promise&) = delete;
    ~task_promise()
    {
        if (prev != nullptr)
        {
            prev->next = next;
            next->prev = prev;
        }
    }

    task<void> get_return_object() noexcept;
    [[nodiscard]] final_awaiter final_suspend() const noexcept { return {}; }

    void unhandled_exception() noexcept
    {
        if (spawned())
        {
            report_spawned_exception(std::current_exception());
        }
        else
        {
            m_exception = std::current_exception();
        }
    }
    void return_void() const noexcept {}

    void result() const
    {
        if (m_exception)
        {
            std::rethrow_exception(m_exception);
        }
    }

    [[nodiscard]] bool spawned() const noexcept { return prev != nullptr; }

    /// Links this (not yet started) task after `head`'s last element: it becomes spawned.
    void link_before(spawn_link& head) noexcept
    {
        prev = head.prev;
        next = &head;
        head.prev->next = this;
        head.prev = this;
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

/// As stop_token_of, without copying the token (no reference-count traffic) when the promise
/// hands out a reference: bind the result to a `const std::stop_token&`, which is valid while
/// the awaiting coroutine's promise is and only until its token is replaced.
template <class Promise>
[[nodiscard]] decltype(auto) stop_token_ref(std::coroutine_handle<Promise> handle) noexcept
{
    if constexpr (requires {
                      {
                          handle.promise().stop_token()
                          } -> std::same_as<const std::stop_token&>;
                  })
    {
        return handle.promise().stop_token();
    }
    else
    {
        return stop_token_of(handle);
    }
}

} // namespace detail
} // namespace weft
