#pragma once
// Small helpers for tests whose body runs as a task (see run_task.hpp).

#include <stop_token>
#include <utility>
#include <weft/weft.hpp>

namespace weft::testing
{

/// Starts `t` on the loop running the calling task.
inline void spawn(task<void> t)
{
    event_loop::require_current("spawn").spawn(std::move(t));
}

/// Yields to the loop until `done()` holds; run_task's deadline bounds the wait.
template <class Done>
task<void> until(Done done)
{
    while (!done())
    {
        co_await yield();
    }
}

/// Runs `body` under `token` as well as the loop's, so that a test can cancel it alone.
inline task<void> under(std::stop_token token, task<void> body)
{
    co_await with_stop_token(std::move(token), std::move(body));
}

} // namespace weft::testing
