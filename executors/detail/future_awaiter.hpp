#pragma once
// `co_await future` on an event_loop. The future may finish on any thread; its done-callback
// posts the resumption to the awaiting loop, whose thread alone decides (through `resumed`)
// whether the coroutine resumes with the result or with operation_cancelled. The link between
// the two is shared so that either side can outlive the other: a loop torn down with the
// coroutine still waiting clears `loop`, and a later completion then does nothing.

#include <coroutine>
#include <memory>
#include <mutex>
#include <stop_token>

#include "executors/detail/future_state.hpp"
#include "runtime/detail/cancellable.hpp"
#include "runtime/detail/task_promise.hpp"
#include "runtime/event_loop.hpp"

namespace weft::detail
{

struct future_await_link
{
    std::mutex mutex;           // guards `loop` against a completion on another thread
    event_loop* loop = nullptr; // null once the awaiter is gone
    std::coroutine_handle<> handle;
    bool resumed = false; // loop thread only

    // Loop thread: resume the coroutine unless the other path already did.
    void resume_once(event_loop& on)
    {
        if (!resumed)
        {
            resumed = true;
            on.schedule(handle);
        }
    }
};

/// The awaiter behind future<T>::operator co_await. `Take` is true for an rvalue future, whose
/// value is moved out instead of copied.
template <class T, bool Take>
class future_awaiter : private cancellable
{
  public:
    explicit future_awaiter(std::shared_ptr<future_state<T>> state) noexcept
        : m_state(std::move(state))
    {
    }
    future_awaiter(future_awaiter&& other) noexcept : m_state(std::move(other.m_state)) {}
    future_awaiter(const future_awaiter&) = delete;
    future_awaiter& operator=(const future_awaiter&) = delete;
    future_awaiter& operator=(future_awaiter&&) = delete;
    ~future_awaiter() { disconnect(); }

    [[nodiscard]] bool await_ready() const noexcept { return m_state->done(); }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting)
    {
        event_loop& loop = event_loop::require_current("co_await future");
        std::stop_token token = stop_token_of(awaiting);
        if (token.stop_requested())
        {
            m_state->cancel();
            m_cancelled = true;
            return false;
        }
        m_loop = &loop;
        m_link = std::make_shared<future_await_link>();
        m_link->loop = &loop;
        m_link->handle = awaiting;
        m_callback_id = m_state->add_callback(
            [link = m_link](future_state_base&)
            {
                std::lock_guard lock(link->mutex);
                if (link->loop != nullptr)
                {
                    // post() fails only once the loop is stopping; its stop then cancels this
                    // await through cancel() below, which resumes the coroutine instead.
                    link->loop->post(
                        [link]
                        {
                            // Loop thread, like disconnect(): no lock needed to read `loop`.
                            if (link->loop != nullptr)
                            {
                                link->resume_once(*link->loop);
                            }
                        });
                }
            });
        if (m_callback_id == 0)
        {
            m_link.reset();
            return false; // finished meanwhile
        }
        if (token.stop_possible())
        {
            m_stop.emplace(std::move(token), cancel_callback{&loop, this});
        }
        return true;
    }

    decltype(auto) await_resume()
    {
        disconnect();
        if (m_cancelled)
        {
            throw operation_cancelled();
        }
        if (m_state->status() == future_status::cancelled)
        {
            throw operation_cancelled("weft: the awaited future was cancelled");
        }
        if (m_state->error())
        {
            std::rethrow_exception(m_state->error());
        }
        if constexpr (std::is_void_v<T>)
        {
            return;
        }
        else if constexpr (Take)
        {
            return T(std::move(m_state->value()));
        }
        else
        {
            return static_cast<const T&>(m_state->value());
        }
    }

  private:
    // Loop thread: the await is cancelled. Python cancels the executor's future only while it
    // is still pending; the coroutine itself stops waiting either way.
    void cancel() noexcept override
    {
        if (m_link == nullptr || m_link->resumed)
        {
            return;
        }
        m_cancelled = true;
        m_state->cancel();
        m_link->resume_once(*m_loop);
    }

    void disconnect() noexcept
    {
        if (m_stop)
        {
            m_stop.reset();
            m_loop->forget_cancel(*this);
        }
        if (m_link)
        {
            {
                std::lock_guard lock(m_link->mutex);
                m_link->loop = nullptr;
            }
            m_state->remove_callback(m_callback_id);
            m_link.reset();
        }
    }

    std::shared_ptr<future_state<T>> m_state;
    std::shared_ptr<future_await_link> m_link;
    event_loop* m_loop = nullptr;
    std::uint64_t m_callback_id = 0;
    stop_registration m_stop;
    bool m_cancelled = false;
};

} // namespace weft::detail
