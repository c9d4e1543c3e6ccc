#pragma once

#include <coroutine>

#include "runtime/sync/detail/waiter_list.hpp"

namespace weft
{

/// A flag tasks on one event_loop can wait for (asyncio.Event): wait() suspends until set() is
/// called, and returns at once while the flag is set.
///
/// set() resumes every waiter at the loop's next turn, in the order they started waiting; a
/// waiter woken by set() returns normally even if clear() runs before it resumes.
///
/// Cancellation: a wait() whose task's stop token is stopped leaves the queue and throws
/// operation_cancelled, so with_timeout(d, e.wait()) throws timeout_error.
///
/// Threading: not thread-safe. Use it from tasks of a single loop, on that loop's thread.
/// Destroying an event that tasks are waiting on resumes them with invalid_state_error.
class async_event
{
  public:
    /// What wait() returns; `co_await` it.
    class [[nodiscard]] wait_awaiter : public detail::waiter
    {
      public:
        explicit wait_awaiter(async_event& event) noexcept
            : waiter("async_event::wait"), m_event(&event)
        {
        }
        // Moved only before it is awaited (with_timeout wraps it in a task).
        wait_awaiter(wait_awaiter&& other) noexcept : wait_awaiter(*other.m_event) {}
        wait_awaiter(const wait_awaiter&) = delete;
        wait_awaiter& operator=(const wait_awaiter&) = delete;
        wait_awaiter& operator=(wait_awaiter&&) = delete;
        ~wait_awaiter() = default;

        [[nodiscard]] bool await_ready() const noexcept { return false; }

        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> awaiting)
        {
            return suspend_on(m_event->m_waiters, awaiting, [this] { return m_event->m_set; });
        }

        void await_resume() { finish(); }

      private:
        async_event* m_event;
    };

    /// Starts cleared.
    async_event() noexcept = default;
    async_event(const async_event&) = delete;
    async_event& operator=(const async_event&) = delete;
    ~async_event() = default;

    /// Sets the flag and wakes every waiter. Idempotent.
    void set() noexcept
    {
        m_set = true;
        m_waiters.wake_all();
    }

    /// Clears the flag; later wait()s suspend until the next set().
    void clear() noexcept { m_set = false; }

    [[nodiscard]] bool is_set() const noexcept { return m_set; }

    /// `co_await wait()` returns once the flag is set (at once if it already is). Throws
    /// operation_cancelled if the task's stop token is stopped first.
    [[nodiscard]] wait_awaiter wait() noexcept { return wait_awaiter(*this); }

  private:
    detail::waiter_list m_waiters;
    bool m_set = false;
};

} // namespace weft
