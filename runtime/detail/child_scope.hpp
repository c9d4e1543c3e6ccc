#pragma once
// The children of one when_all or when_any: a stop source chained to the awaiting task's
// token, the list of running children, and the count that resumes the awaiting coroutine when
// the last child has finished. Lives in the combinator's own coroutine frame.

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <stop_token>

#include "runtime/detail/child_runner.hpp"

namespace weft::detail
{

/// Requests stop on a stop source; the callback type of every chained token in the
/// combinators.
struct child_stop_forwarder
{
    std::stop_source target;
    void operator()() noexcept { target.request_stop(); }
};

using child_stop_link = std::optional<std::stop_callback<child_stop_forwarder>>;

class child_scope final : public child_owner
{
  public:
    /// Children are cancelled when `parent` is stopped, as well as by request_stop().
    explicit child_scope(const std::stop_token& parent)
    {
        m_from_parent.emplace(parent, child_stop_forwarder{m_source});
    }
    /// Children still running here belong to a frame destroyed while suspended, which only
    /// event-loop teardown does: they are destroyed with the scope (see child_list).
    ~child_scope() = default;
    child_scope(const child_scope&) = delete;
    child_scope& operator=(const child_scope&) = delete;

    [[nodiscard]] std::stop_token token() const noexcept { return m_source.get_token(); }
    [[nodiscard]] bool stop_requested() const noexcept { return m_source.stop_requested(); }
    void request_stop() noexcept { m_source.request_stop(); }

    /// Takes a child that run() will start.
    void adopt(child_runner runner) noexcept
    {
        (void)m_children.adopt(std::move(runner), *this, m_source.get_token());
        ++m_pending;
    }

    /// Records the first failure and cancels the other children; later ones are dropped.
    void fail(std::exception_ptr error) noexcept
    {
        if (!m_error)
        {
            m_error = std::move(error);
            m_source.request_stop();
        }
    }

    void rethrow_if_failed() const
    {
        if (m_error)
        {
            std::rethrow_exception(m_error);
        }
    }

    class run_awaiter
    {
      public:
        explicit run_awaiter(child_scope& scope) noexcept : m_scope(scope) {}

        [[nodiscard]] bool await_ready() const noexcept { return m_scope.m_pending == 0; }

        bool await_suspend(std::coroutine_handle<> awaiting) noexcept
        {
            m_scope.m_continuation = awaiting;
            // Held while the children start, so that one finishing at once cannot resume
            // `awaiting` from inside this call.
            ++m_scope.m_pending;
            m_scope.m_children.start_all();
            return --m_scope.m_pending != 0;
        }

        void await_resume() const noexcept {}

      private:
        child_scope& m_scope;
    };

    /// `co_await scope.run()` starts every adopted child, in order, on this thread, and
    /// resumes once all of them have finished and their frames are freed.
    [[nodiscard]] run_awaiter run() noexcept { return run_awaiter(*this); }

  private:
    std::coroutine_handle<> child_finished() noexcept override
    {
        return --m_pending == 0 ? m_continuation : std::noop_coroutine();
    }

    std::stop_source m_source; // before m_from_parent, whose callback may fire at once
    child_list m_children;
    std::size_t m_pending = 0;
    std::coroutine_handle<> m_continuation;
    std::exception_ptr m_error;
    child_stop_link m_from_parent;
};

} // namespace weft::detail
