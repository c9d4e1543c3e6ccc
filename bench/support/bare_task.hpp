#pragma once
// The floor for coroutine benchmarks: the least a lazy C++20 task can be. A frame, a
// continuation, a result slot and symmetric transfer; no stop token, no exception slot, no
// event loop. Whatever weft::task costs beyond this is the price of its features.

#include <coroutine>
#include <exception>
#include <utility>

namespace bench::bare
{

template <class T>
struct value_slot
{
    T value{};
    void return_value(T v) noexcept { value = std::move(v); }
    T take() noexcept { return std::move(value); }
};

template <>
struct value_slot<void>
{
    void return_void() const noexcept {}
    void take() const noexcept {}
};

template <class T = void>
class [[nodiscard]] task
{
  public:
    struct promise_type : value_slot<T>
    {
        std::coroutine_handle<> continuation;

        task get_return_object() noexcept
        {
            return task{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }

        struct final_awaiter
        {
            [[nodiscard]] bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept
            {
                const std::coroutine_handle<> next = h.promise().continuation;
                return next ? next : std::noop_coroutine();
            }
            void await_resume() const noexcept {}
        };
        [[nodiscard]] final_awaiter final_suspend() const noexcept { return {}; }
        void unhandled_exception() const noexcept { std::terminate(); }
    };

    task() noexcept = default;
    explicit task(std::coroutine_handle<promise_type> h) noexcept : m_handle(h) {}
    task(task&& other) noexcept : m_handle(std::exchange(other.m_handle, {})) {}
    task& operator=(task&& other) noexcept
    {
        std::swap(m_handle, other.m_handle);
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task()
    {
        if (m_handle)
        {
            m_handle.destroy();
        }
    }

    [[nodiscard]] std::coroutine_handle<promise_type> handle() const noexcept { return m_handle; }

    auto operator co_await() && noexcept
    {
        struct awaiter
        {
            std::coroutine_handle<promise_type> h;
            [[nodiscard]] bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept
            {
                h.promise().continuation = awaiting;
                return h;
            }
            T await_resume() noexcept { return h.promise().take(); }
        };
        return awaiter{m_handle};
    }

  private:
    std::coroutine_handle<promise_type> m_handle;
};

} // namespace bench::bare
