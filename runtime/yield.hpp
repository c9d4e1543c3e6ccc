#pragma once

#include <coroutine>

#include "runtime/event_loop.hpp"

namespace weft
{
namespace detail
{
struct yield_awaiter
{
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> awaiting) const
    {
        event_loop::require_current("yield").schedule(awaiting);
    }
    void await_resume() const noexcept {}
};
} // namespace detail

/// Lets every other ready task on the loop run once before the caller continues (asyncio's
/// `await asyncio.sleep(0)`).
[[nodiscard]] inline detail::yield_awaiter yield() noexcept
{
    return {};
}

} // namespace weft
