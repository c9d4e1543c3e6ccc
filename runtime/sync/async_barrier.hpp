#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <stdexcept>
#include <utility>

#include "runtime/errors.hpp"
#include "runtime/sync/detail/waiter_list.hpp"

namespace weft
{

/// A reusable barrier for a fixed number of tasks on one event_loop (Python's
/// threading.Barrier): each wait() suspends until `parties` tasks are waiting, then all of them
/// return and the barrier starts over.
///
/// wait() returns the arrival index, 0 for the first task to arrive and parties - 1 for the
/// last. The optional action runs once per trip, in the last task to arrive, before anyone is
/// released; if it throws, that task rethrows it and the barrier breaks.
///
/// Broken state: abort(), an action that throws, or a waiter that is cancelled or destroyed
/// breaks the barrier: every waiter and every later wait() throws broken_barrier_error until
/// reset().
///
/// Cancellation: a wait() whose task's stop token is stopped, before or while it waits,
/// throws operation_cancelled and breaks the barrier, as a timeout does in Python; so
/// with_timeout(d, b.wait()) throws timeout_error and the other parties broken_barrier_error.
///
/// Threading: not thread-safe. Use it from tasks of a single loop, on that loop's thread.
/// Destroying a barrier that tasks are waiting on resumes them with invalid_state_error.
class async_barrier
{
  public:
    /// What wait() returns; `co_await` it for the arrival index.
    class [[nodiscard]] wait_awaiter : public detail::waiter
    {
      public:
        explicit wait_awaiter(async_barrier& barrier) noexcept
            : waiter("async_barrier::wait"), m_barrier(&barrier)
        {
        }
        // Moved only before it is awaited (with_timeout wraps it in a task).
        wait_awaiter(wait_awaiter&& other) noexcept : wait_awaiter(*other.m_barrier) {}
        wait_awaiter(const wait_awaiter&) = delete;
        wait_awaiter& operator=(const wait_awaiter&) = delete;
        wait_awaiter& operator=(wait_awaiter&&) = delete;
        ~wait_awaiter()
        {
            // A party that disappears while waiting can never arrive: the others would wait
            // forever, so the barrier breaks.
            if (queued())
            {
                unlink();
                m_barrier->break_barrier();
            }
        }

        [[nodiscard]] bool await_ready() const noexcept { return false; }

        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> awaiting)
        {
            std::stop_token token = detail::stop_token_of(awaiting);
            if (cancelled_early(token))
            {
                m_barrier->break_barrier();
                return false;
            }
            if (m_barrier->m_broken)
            {
                m_broken = true;
                return false;
            }
            m_index = m_barrier->m_waiters.size();
            if (m_index + 1 < m_barrier->m_parties)
            {
                enqueue(m_barrier->m_waiters, awaiting, std::move(token));
                return true;
            }
            m_barrier->trip(*this);
            return false;
        }

        std::size_t await_resume()
        {
            finish();
            if (m_error)
            {
                std::rethrow_exception(m_error);
            }
            if (m_broken)
            {
                throw broken_barrier_error();
            }
            return m_index;
        }

      private:
        friend class async_barrier;

        void cancel() noexcept override
        {
            if (queued())
            {
                resume_with(outcome::cancelled);
                m_barrier->break_barrier();
            }
        }

        async_barrier* m_barrier;
        std::size_t m_index = 0;
        std::exception_ptr m_error;
        bool m_broken = false;
    };

    /// A barrier for `parties` tasks; `action`, if given, runs in the last task to arrive each
    /// time the barrier trips. Throws std::invalid_argument when `parties` is 0.
    explicit async_barrier(std::size_t parties, std::function<void()> action = {})
        : m_action(std::move(action)), m_parties(parties)
    {
        if (parties == 0)
        {
            throw std::invalid_argument("weft: async_barrier: parties must be at least 1");
        }
    }
    async_barrier(const async_barrier&) = delete;
    async_barrier& operator=(const async_barrier&) = delete;
    ~async_barrier() = default;

    /// `co_await wait()` suspends until `parties` tasks wait, then returns this task's arrival
    /// index. Throws broken_barrier_error when the barrier is or becomes broken, the action's
    /// exception in the task that ran it, and operation_cancelled (breaking the barrier) if
    /// the task's stop token is stopped first.
    [[nodiscard]] wait_awaiter wait() noexcept { return wait_awaiter(*this); }

    /// Breaks the barrier: waiters and later wait()s throw broken_barrier_error until reset().
    void abort() noexcept { break_barrier(); }

    /// Returns the barrier to its empty, unbroken state; tasks waiting now throw
    /// broken_barrier_error.
    void reset() noexcept
    {
        release_all_broken();
        m_broken = false;
    }

    [[nodiscard]] bool broken() const noexcept { return m_broken; }
    /// Tasks currently waiting for the barrier to trip.
    [[nodiscard]] std::size_t n_waiting() const noexcept { return m_waiters.size(); }
    [[nodiscard]] std::size_t parties() const noexcept { return m_parties; }

  private:
    void break_barrier() noexcept
    {
        m_broken = true;
        release_all_broken();
    }

    void release_all_broken() noexcept
    {
        while (!m_waiters.empty())
        {
            auto& waiting = m_waiters.front<wait_awaiter>();
            waiting.m_broken = true;
            waiting.resume_with(detail::waiter::outcome::woken);
        }
    }

    // Runs in the last arrival's await_suspend: the action first, then everyone is released.
    void trip(wait_awaiter& last) noexcept
    {
        if (m_action)
        {
            try
            {
                m_action();
            }
            catch (...)
            {
                last.m_error = std::current_exception();
                break_barrier();
                return;
            }
        }
        if (m_broken)
        {
            // The action itself called abort().
            last.m_broken = true;
            return;
        }
        m_waiters.wake_all();
    }

    std::function<void()> m_action;
    detail::waiter_list m_waiters; // tasks waiting for the barrier to trip, oldest first
    std::size_t m_parties;
    bool m_broken = false;
};

} // namespace weft
