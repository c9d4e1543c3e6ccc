#pragma once
// future<T>: the consumer side of a result computed elsewhere (a thread pool, a process pool, a
// promise), with Python's concurrent.futures.Future semantics, plus `co_await` from any loop.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "executors/detail/future_awaiter.hpp"
#include "executors/detail/future_state.hpp"
#include "runtime/errors.hpp"

namespace weft
{

template <class T>
class promise;

/// A handle to a result that may not exist yet. Copies share one state (like Python, where every
/// reference names the same Future); comparison and hashing go by that state.
///
/// States, as in Python: pending -> running -> finished, or pending -> cancelled. done() is true
/// once finished or cancelled. result() returns the value, rethrows the stored exception, or
/// throws operation_cancelled for a cancelled future; its timeout form throws timeout_error.
template <class T>
class future
{
  public:
    /// A future with no state: every call but valid() throws invalid_state_error.
    future() = default;
    explicit future(std::shared_ptr<detail::future_state<T>> state) noexcept
        : m_state(std::move(state))
    {
    }

    [[nodiscard]] bool valid() const noexcept { return m_state != nullptr; }

    /// True once finished or cancelled.
    [[nodiscard]] bool done() const { return state().done(); }
    /// True while an executor runs it (not before, not after).
    [[nodiscard]] bool running() const
    {
        return state().status() == detail::future_status::running;
    }
    [[nodiscard]] bool cancelled() const
    {
        return state().status() == detail::future_status::cancelled;
    }

    /// Cancels a pending future and returns true (also when it was cancelled before); returns
    /// false once it runs or is finished. Waiters wake and done-callbacks run.
    bool cancel() { return state().cancel(); }

    /// Waits for the outcome without limit; returns the value (void for future<void>).
    decltype(auto) result() const&
    {
        wait_or_throw(std::nullopt);
        return value_ref();
    }
    /// As above, moving the value out of the shared state (other copies then see a moved-from
    /// value). `co_await std::move(f)` and `std::move(f).result()` use this.
    T result() &&
    {
        wait_or_throw(std::nullopt);
        return take_value();
    }
    /// Waits at most `timeout` (zero or negative: do not wait); throws timeout_error when the
    /// future is still not done.
    template <class Rep, class Period>
    decltype(auto) result(std::chrono::duration<Rep, Period> timeout) const&
    {
        wait_or_throw(deadline_after(timeout));
        return value_ref();
    }
    template <class Rep, class Period>
    T result(std::chrono::duration<Rep, Period> timeout) &&
    {
        wait_or_throw(deadline_after(timeout));
        return take_value();
    }

    /// The exception the computation ended with, or null for a value; operation_cancelled for
    /// a cancelled future and timeout_error on timeout, as result().
    [[nodiscard]] std::exception_ptr exception() const
    {
        wait_or_throw(std::nullopt, false);
        return state().error();
    }
    template <class Rep, class Period>
    [[nodiscard]] std::exception_ptr exception(std::chrono::duration<Rep, Period> timeout) const
    {
        wait_or_throw(deadline_after(timeout), false);
        return state().error();
    }

    /// Blocks until done or `timeout` passes; true when done. Never throws timeout_error.
    template <class Rep, class Period>
    bool wait_for(std::chrono::duration<Rep, Period> timeout) const
    {
        return state().wait(deadline_after(timeout));
    }
    void wait() const { state().wait(std::nullopt); }

    /// Calls `fn(future)` once the future is done (finished or cancelled), in registration order,
    /// on the thread that completes it; at once, on this thread, when it is already done. An
    /// exception from `fn` goes to the callback error handler (see callback_error_handler.hpp)
    /// and does not stop the other callbacks.
    template <class F>
    requires std::invocable < F&, const future<T>
    & > void add_done_callback(F fn)
    {
        auto wrapped = [fn = std::move(fn)](detail::future_state_base& s) mutable
        {
            future self(std::static_pointer_cast<detail::future_state<T>>(s.shared_from_this()));
            std::invoke(fn, std::as_const(self));
        };
        if (state().add_callback(wrapped) == 0)
        {
            try
            {
                wrapped(*m_state);
            }
            catch (...)
            {
                detail::report_callback_error(std::current_exception());
            }
        }
    }

    /// Suspends the calling coroutine until the future is done; it resumes on its own loop's
    /// thread. Cancelling the await (stop token, loop stop) throws operation_cancelled and
    /// cancels the future if it is still pending.
    auto operator co_await() const& { return detail::future_awaiter<T, false>(shared_state()); }
    auto operator co_await() && { return detail::future_awaiter<T, true>(shared_state()); }

    friend bool operator==(const future& a, const future& b) noexcept
    {
        return a.m_state == b.m_state;
    }

    /// For executor authors and for as_completed/wait: the shared state.
    [[nodiscard]] const std::shared_ptr<detail::future_state<T>>& shared_state() const
    {
        state();
        return m_state;
    }

  private:
    detail::future_state<T>& state() const
    {
        if (!m_state)
        {
            throw invalid_state_error(
                "weft: future has no state (default-constructed or moved-from)");
        }
        return *m_state;
    }

    template <class Rep, class Period>
    static detail::future_state_base::deadline
    deadline_after(std::chrono::duration<Rep, Period> timeout)
    {
        return detail::deadline_after(timeout);
    }

    void wait_or_throw(detail::future_state_base::deadline until, bool rethrow = true) const
    {
        detail::future_state<T>& s = state();
        if (!s.wait(until))
        {
            throw timeout_error("weft: future not done before the timeout");
        }
        if (s.status() == detail::future_status::cancelled)
        {
            throw operation_cancelled("weft: future was cancelled");
        }
        if (rethrow && s.error())
        {
            std::rethrow_exception(s.error());
        }
    }

    decltype(auto) value_ref() const
    {
        if constexpr (std::is_void_v<T>)
        {
            return;
        }
        else
        {
            return static_cast<const T&>(m_state->value());
        }
    }

    T take_value() const
    {
        if constexpr (!std::is_void_v<T>)
        {
            return T(std::move(m_state->value()));
        }
    }

    std::shared_ptr<detail::future_state<T>> m_state;
};

} // namespace weft

template <class T>
struct std::hash<weft::future<T>>
{
    std::size_t operator()(const weft::future<T>& f) const noexcept
    {
        return std::hash<const void*>{}(f.valid() ? f.shared_state().get() : nullptr);
    }
};
