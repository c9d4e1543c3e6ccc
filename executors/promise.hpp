#pragma once
// promise<T>: the producer side of a future. Executors hold one per submitted task; user code
// can use it to complete a future from anywhere (a callback API, another thread).

#include <exception>
#include <memory>
#include <utility>

#include "executors/errors.hpp"
#include "executors/future.hpp"

namespace weft
{

/// Sets the outcome of the futures it hands out, once. Move-only. Destroying a promise whose
/// future is still not done completes it with broken_promise, so that no waiter hangs.
template <class T>
class promise
{
  public:
    promise() : m_state(std::make_shared<detail::future_state<T>>()) {}
    promise(promise&&) noexcept = default;
    promise& operator=(promise&& other) noexcept
    {
        if (this != &other)
        {
            abandon();
            m_state = std::move(other.m_state);
        }
        return *this;
    }
    promise(const promise&) = delete;
    promise& operator=(const promise&) = delete;
    ~promise() { abandon(); }

    /// A future on this promise's state; every call returns a handle to the same state.
    [[nodiscard]] future<T> get_future() const { return future<T>(state_ptr()); }

    /// Finishes the future with a value; throws invalid_state_error when it is already done
    /// (finished or cancelled), as Python's set_result.
    template <class... Args>
    void set_result(Args&&... args)
    {
        state_ptr()->set_value(std::forward<Args>(args)...);
    }
    /// Finishes the future with an exception; invalid_state_error when already done.
    void set_exception(std::exception_ptr error) { state_ptr()->set_exception(std::move(error)); }

    /// Python's set_running_or_notify_cancel: pending -> running and true; false when the future
    /// was cancelled (do not run the work); invalid_state_error otherwise.
    bool set_running_or_notify_cancel() { return state_ptr()->set_running_or_notify_cancel(); }

  private:
    const std::shared_ptr<detail::future_state<T>>& state_ptr() const
    {
        if (!m_state)
        {
            throw invalid_state_error("weft: promise has no state (moved-from)");
        }
        return m_state;
    }

    void abandon() noexcept
    {
        if (m_state && !m_state->done())
        {
            try
            {
                m_state->set_exception(std::make_exception_ptr(broken_promise()));
            }
            catch (const invalid_state_error&)
            {
                // Cancelled or finished by another thread in between: nothing to do.
            }
        }
    }

    std::shared_ptr<detail::future_state<T>> m_state;
};

} // namespace weft
