#pragma once

#include <cstddef>
#include <memory>
#include <stop_token>
#include <utility>

#include "runtime/detail/task_group_state.hpp"
#include "runtime/event_loop.hpp"
#include "runtime/task.hpp"

namespace weft
{

/// A nursery: tasks spawned into a group run concurrently on the loop, and `co_await join()`
/// waits until every one of them has finished.
///
///     task_group group(co_await this_task::stop_token());
///     for (auto& peer : peers)
///         group.spawn(serve(peer));
///     co_await group.join();
///
/// Rule: always `co_await group.join()` before the group goes out of scope, on every path
/// (catch the exception that would skip it, co_await join(), then rethrow). C++ cannot await in
/// a destructor; see ~task_group for what happens otherwise.
///
/// Errors: the first exception thrown by any child cancels the others and is rethrown by
/// join() once they have all finished; later exceptions are dropped, and operation_cancelled
/// from a child of a stopped group is never the reported error.
///
/// Cancellation: children run under the group's stop token, which is stopped by cancel(), by
/// the first error, by event_loop::stop(), by the token given to the constructor, and, while
/// join() is awaited, by the joining task's token. A child given a token of its own with
/// with_stop_token also stops when that one is.
///
/// Single use: spawn() is allowed until join() has completed, including from the children
/// while join() waits; after that it throws invalid_state_error. A later join() returns at
/// once.
///
/// Threading: a group belongs to the loop running on the thread that created it; every member
/// must be called on that thread. Not copyable or movable.
class task_group
{
  public:
    /// A group on the loop running on this thread; throws invalid_state_error when there is
    /// none. Its children are cancelled by event_loop::stop, and by the joining task's token
    /// only from when join() is awaited.
    task_group() : task_group(std::stop_token{}) {}

    /// As task_group(), and its children are also cancelled as soon as `parent` is stopped:
    /// pass `co_await this_task::stop_token()` so that they stop with the creating task even
    /// before join() is awaited.
    explicit task_group(const std::stop_token& parent)
        : m_state(std::make_unique<detail::task_group_state>(
              event_loop::require_current("task_group"), parent))
    {
    }

    /// Waits for the children, as join() would, but cannot suspend or throw: with children
    /// still running (join() was skipped, typically by an exception) it requests stop for all
    /// of them and runs the loop's turns until they have finished (event_loop::run_until), so
    /// no child outlives the group's scope. The first child error, if one was not reported by
    /// join(), goes to the loop's unhandled-exception handler. Off the loop thread (the loop's
    /// destructor freeing a suspended frame that holds the group) the children are destroyed
    /// where they are suspended; the loop has already taken back their kernel operations.
    ~task_group()
    {
        if (m_state->running() > 0)
        {
            m_state->request_stop();
            event_loop& loop = m_state->loop();
            if (event_loop::current() != &loop)
            {
                return;
            }
            try
            {
                loop.run_until([state = m_state.get()] { return state->running() == 0; });
            }
            catch (...)
            {
                loop.report_unhandled(std::current_exception());
            }
        }
        if (std::exception_ptr error = m_state->take_error())
        {
            m_state->loop().report_unhandled(std::move(error));
        }
    }

    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;
    task_group(task_group&&) = delete;
    task_group& operator=(task_group&&) = delete;

    /// Starts `child` concurrently: it is queued on the loop and first runs at the loop's next
    /// turn, under the group's stop token (already stopped if the group was cancelled, so its
    /// first cancellable await throws operation_cancelled). Its frame is freed as soon as it
    /// finishes. Throws invalid_state_error off the group's loop thread, after join() has
    /// completed, or for an empty task.
    void spawn(task<void> child) { m_state->spawn(std::move(child)); }

    /// `co_await group.join()` waits until every child has finished (including children
    /// spawned meanwhile), then rethrows the first child exception, if any. While it waits, a
    /// stop of the awaiting task's token cancels the children; if that cancelled any of them,
    /// join() throws operation_cancelled (when no child error is rethrown). Only one task may
    /// await join() at a time (invalid_state_error otherwise).
    [[nodiscard]] detail::task_group_join_awaiter join() noexcept
    {
        return detail::task_group_join_awaiter(*m_state);
    }

    /// Requests stop for every child, running or spawned later. join() still waits for them,
    /// and returns normally unless a child threw something other than operation_cancelled.
    void cancel() noexcept { m_state->request_stop(); }

    /// The number of children spawned and not finished yet.
    [[nodiscard]] std::size_t size() const noexcept { return m_state->running(); }

    /// The token the children run under.
    [[nodiscard]] std::stop_token stop_token() const noexcept { return m_state->token(); }

  private:
    std::unique_ptr<detail::task_group_state> m_state;
};

} // namespace weft
