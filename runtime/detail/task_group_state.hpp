#pragma once
// What a task_group shares with its children: the group's stop source and the tokens chained to
// it, the running children, the first error, and the task waiting in join(). Kept on the heap so
// that, when a group is destroyed with children still running, it can be handed to a coroutine
// owned by the loop that waits for them (see ~task_group).

#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>

#include "runtime/detail/child_runner.hpp"
#include "runtime/detail/child_scope.hpp"
#include "runtime/errors.hpp"
#include "runtime/event_loop.hpp"
#include "runtime/task.hpp"

namespace weft::detail
{

class task_group_state final : public child_owner
{
  public:
    /// Chained to the loop's token (so that event_loop::stop reaches every child) and to
    /// `parent` when it can be stopped.
    task_group_state(event_loop& loop, const std::stop_token& parent) : m_loop(loop)
    {
        m_from_loop.emplace(loop.stop_token(), child_stop_forwarder{m_source});
        if (parent.stop_possible())
        {
            m_from_parent.emplace(parent, child_stop_forwarder{m_source});
        }
    }
    /// Children still linked here are destroyed where they are suspended: the state is only
    /// destroyed with children running at event-loop teardown (see ~task_group).
    ~task_group_state() = default;
    task_group_state(const task_group_state&) = delete;
    task_group_state& operator=(const task_group_state&) = delete;

    [[nodiscard]] event_loop& loop() const noexcept { return m_loop; }
    [[nodiscard]] std::size_t running() const noexcept { return m_running; }
    [[nodiscard]] std::stop_token token() const noexcept { return m_source.get_token(); }
    void request_stop() noexcept { m_source.request_stop(); }

    /// Takes the first child error, if any (for a group destroyed without join()).
    [[nodiscard]] std::exception_ptr take_error() noexcept { return std::exchange(m_error, {}); }

    void spawn(task<void> child)
    {
        if (event_loop::current() != &m_loop)
        {
            throw invalid_state_error(
                "weft: task_group::spawn must be called from a task running on the group's loop");
        }
        if (m_joined)
        {
            throw invalid_state_error("weft: task_group::spawn after join() has completed: a "
                                      "task_group is single-use; create a new one");
        }
        if (!child.valid())
        {
            throw invalid_state_error("weft: task_group::spawn of an empty or moved-from task");
        }
        child_runner runner = run_child(std::move(child), sink{this});
        // Queued before it is adopted: if queueing throws, `runner` frees the unstarted frame.
        m_loop.schedule(runner.handle());
        (void)m_children.adopt(std::move(runner), *this, m_source.get_token());
        ++m_running;
    }

    /// Registers `joiner` to be resumed when the last child finishes, and chains its token to
    /// the group. Returns false (do not suspend) when no child is left by then.
    bool suspend_joiner(std::coroutine_handle<> joiner, std::stop_token token)
    {
        if (m_joiner)
        {
            throw invalid_state_error(
                "weft: task_group::join is already being awaited by another task");
        }
        m_joiner = joiner;
        m_join_token = std::move(token);
        m_from_joiner.emplace(m_join_token, child_stop_forwarder{m_source});
        if (m_running == 0)
        {
            m_joiner = {};
            return false;
        }
        return true;
    }

    /// Ends a join: the group is closed to spawn; the first error is rethrown, otherwise
    /// operation_cancelled when the joining task was stopped and that cancelled children.
    void finish_join()
    {
        m_from_joiner.reset();
        m_joiner = {};
        m_joined = true;
        const std::stop_token token = std::exchange(m_join_token, {});
        if (m_error)
        {
            std::rethrow_exception(std::exchange(m_error, {}));
        }
        if (token.stop_requested() && m_cancelled > 0)
        {
            throw operation_cancelled();
        }
    }

  private:
    struct sink
    {
        task_group_state* group;

        void on_value() const noexcept {}
        void on_cancelled(std::exception_ptr error) const noexcept
        {
            group->child_cancelled(std::move(error));
        }
        void on_error(std::exception_ptr error) const noexcept
        {
            group->child_failed(std::move(error));
        }
    };

    // operation_cancelled is a child's answer to the group's own stop, never the group's
    // error; only a child that cancels itself while the group is not stopped reports it.
    void child_cancelled(std::exception_ptr error) noexcept
    {
        if (m_source.stop_requested())
        {
            ++m_cancelled;
        }
        else
        {
            child_failed(std::move(error));
        }
    }

    void child_failed(std::exception_ptr error) noexcept
    {
        if (!m_error)
        {
            m_error = std::move(error);
            m_source.request_stop();
        }
    }

    std::coroutine_handle<> child_finished() noexcept override
    {
        if (--m_running != 0 || !m_joiner)
        {
            return std::noop_coroutine();
        }
        return std::exchange(m_joiner, {});
    }

    event_loop& m_loop;
    std::stop_source m_source; // before the links below, whose callbacks may fire at once
    child_list m_children;
    std::size_t m_running = 0;
    std::size_t m_cancelled = 0; // children that ended with operation_cancelled after a stop
    std::exception_ptr m_error;
    std::coroutine_handle<> m_joiner;
    std::stop_token m_join_token;
    bool m_joined = false;
    child_stop_link m_from_loop;
    child_stop_link m_from_parent;
    child_stop_link m_from_joiner;
};

/// `co_await` of task_group::join().
class task_group_join_awaiter
{
  public:
    explicit task_group_join_awaiter(task_group_state& state) noexcept : m_state(&state) {}

    [[nodiscard]] bool await_ready() const noexcept { return m_state->running() == 0; }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting)
    {
        return m_state->suspend_joiner(awaiting, stop_token_of(awaiting));
    }

    void await_resume() const { m_state->finish_join(); }

  private:
    task_group_state* m_state;
};

} // namespace weft::detail
