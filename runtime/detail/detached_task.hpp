#pragma once
// The coroutine behind event_loop::spawn: owns the spawned task, reports what escapes it, and
// links itself into the loop's list so that a loop destroyed with work pending frees it.

#include <coroutine>
#include <exception>
#include <stop_token>

namespace weft
{
class event_loop;

namespace detail
{

struct detached_promise;

struct detached_task
{
    using promise_type = detached_promise;
    std::coroutine_handle<detached_promise> handle;
};

struct detached_link
{
    detached_link* prev = nullptr;
    detached_link* next = nullptr;
};

struct detached_promise : detached_link
{
    template <class... Args>
    explicit detached_promise(event_loop& loop, Args&&...) noexcept;
    ~detached_promise();
    detached_promise(const detached_promise&) = delete;
    detached_promise& operator=(const detached_promise&) = delete;

    detached_task get_return_object() noexcept
    {
        return {std::coroutine_handle<detached_promise>::from_promise(*this)};
    }
    [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }
    [[nodiscard]] std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::terminate(); }
    /// The loop's token: the spawned task inherits it, bridged with a token of its own if any.
    [[nodiscard]] std::stop_token stop_token() const noexcept;

    event_loop& loop;
};

} // namespace detail
} // namespace weft
