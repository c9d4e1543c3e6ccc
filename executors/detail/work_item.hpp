#pragma once
// A submitted call and the future state it completes, in one allocation: the executor's queue
// holds it as a work_item, the caller's future as a future_state<R>.

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "executors/detail/block_allocator.hpp"
#include "executors/detail/future_state.hpp"

namespace weft::detail
{

class work_item
{
  public:
    /// Runs the call unless the future was cancelled first, and completes the future. `finished`
    /// (with `context`) runs after the call returns and before the outcome is published, so that
    /// an executor can mark the thread idle before a waiter wakes and submits again.
    virtual void run(void (*finished)(void*), void* context) noexcept = 0;
    /// Cancels the future if it is still pending (shutdown with cancel_futures).
    virtual void cancel() noexcept = 0;
    /// Completes a pending future with `error` instead of running it (a broken executor).
    virtual void fail(std::exception_ptr error) noexcept = 0;

  protected:
    work_item() = default;
    ~work_item() = default;
};

template <class R, class F, class... Args>
class call_item final : public future_state<R>, public work_item
{
  public:
    using result_type = R;

    template <class G, class... A>
    explicit call_item(G&& fn, A&&... args)
        : m_call(std::in_place, std::forward<G>(fn), std::tuple<Args...>(std::forward<A>(args)...))
    {
    }

    void run(void (*finished)(void*), void* context) noexcept override
    {
        bool reported = false;
        // The call and its arguments go as soon as the call is over (or will never happen),
        // before the outcome is published: a future must not keep them alive, since they may
        // hold the future themselves (a cycle) or resources the caller expects released.
        auto report = [&]
        {
            m_call.reset();
            if (!reported)
            {
                reported = true;
                finished(context);
            }
        };
        try
        {
            if (!this->set_running_or_notify_cancel())
            {
                report();
                return;
            }
        }
        catch (...)
        {
            report(); // finished by someone else: nothing to run
            return;
        }
        try
        {
            if constexpr (std::is_void_v<R>)
            {
                std::apply(std::move(m_call->first), std::move(m_call->second));
                report();
                this->set_value();
            }
            else
            {
                R value = std::apply(std::move(m_call->first), std::move(m_call->second));
                report();
                this->set_value(std::move(value));
            }
        }
        catch (...)
        {
            report();
            complete_with(std::current_exception());
        }
    }

    // cancel() and fail() are called only for an item the executor took out of its queue, so
    // that no thread can be running it.
    void cancel() noexcept override
    {
        m_call.reset();
        try
        {
            future_state<R>::cancel();
        }
        catch (...)
        {
            // cancel() throws only if a callback allocation fails; the state stays as it was.
        }
    }

    void fail(std::exception_ptr error) noexcept override
    {
        m_call.reset();
        complete_with(std::move(error));
    }

  private:
    void complete_with(std::exception_ptr error) noexcept
    {
        try
        {
            this->set_exception(std::move(error));
        }
        catch (...)
        {
            // Already done (cancelled meanwhile): the outcome stands.
        }
    }

    std::optional<std::pair<F, std::tuple<Args...>>> m_call;
};

/// The call, its future state and its queue entry, for `submit(fn, args...)`.
template <class F, class... Args>
auto make_call_item(F&& fn, Args&&... args)
{
    // A call returning a reference yields a copy: the future owns its value.
    using R = std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;
    using item = call_item<R, std::decay_t<F>, std::decay_t<Args>...>;
    return std::allocate_shared<item>(block_allocator<item>(), std::forward<F>(fn),
                                      std::forward<Args>(args)...);
}

} // namespace weft::detail
