#pragma once
// Test fixture: runs a coroutine body on a fresh event_loop under a deadline, so that a test
// that would hang fails with timeout_error instead of stalling the suite.

#include <chrono>
#include <utility>
#include <weft/weft.hpp>

namespace weft::testing
{

inline constexpr std::chrono::seconds default_deadline{20};

/// Runs `t` on a new loop and returns its value; throws timeout_error if it takes longer than
/// `deadline`.
template <class T>
T run_task(task<T> t, std::chrono::milliseconds deadline = default_deadline)
{
    event_loop loop;
    return loop.run(with_timeout(deadline, std::move(t)));
}

} // namespace weft::testing
