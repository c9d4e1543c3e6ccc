#pragma once

#include <coroutine>
#include <cstddef>
#include <stdexcept>

#include "runtime/sync/detail/waiter_list.hpp"

namespace weft
{

/// A counting semaphore for tasks on one event_loop (asyncio.Semaphore): acquire() takes a
/// permit, suspending while there is none; release() gives permits back.
///
/// Fairness: FIFO. release() hands a permit straight to the oldest waiter, which resumes at the
/// loop's next turn; an acquire() or try_acquire() meanwhile cannot take it first.
///
/// Cancellation: an acquire() whose task's stop token is stopped leaves the queue and throws
/// operation_cancelled (no permit taken), so with_timeout(d, s.acquire()) throws timeout_error.
/// A waiter that was already handed a permit keeps it; if its frame is destroyed before it
/// resumes, the permit is released again.
///
/// Threading: not thread-safe. Use it from tasks of a single loop, on that loop's thread.
/// Destroying a semaphore that tasks are waiting on resumes them with invalid_state_error.
class async_semaphore
{
  public:
    /// What acquire() returns; `co_await` it.
    class [[nodiscard]] acquire_awaiter : public detail::waiter
    {
      public:
        explicit acquire_awaiter(async_semaphore& semaphore) noexcept
            : waiter("async_semaphore::acquire"), m_semaphore(&semaphore)
        {
        }
        // Moved only before it is awaited (with_timeout wraps it in a task).
        acquire_awaiter(acquire_awaiter&& other) noexcept : acquire_awaiter(*other.m_semaphore) {}
        acquire_awaiter(const acquire_awaiter&) = delete;
        acquire_awaiter& operator=(const acquire_awaiter&) = delete;
        acquire_awaiter& operator=(acquire_awaiter&&) = delete;
        ~acquire_awaiter()
        {
            // A permit was handed over but the frame is going away without resuming: give it
            // back so that it is not lost.
            if (handed())
            {
                unlink();
                m_semaphore->release_one();
            }
        }

        [[nodiscard]] bool await_ready() const noexcept { return false; }

        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> awaiting)
        {
            return suspend_on(m_semaphore->m_waiters, awaiting,
                              [this] { return m_semaphore->try_acquire(); });
        }

        void await_resume() { finish(); }

      private:
        async_semaphore* m_semaphore;
    };

    /// Starts with `initial` permits. Throws std::invalid_argument when `initial` is negative.
    explicit async_semaphore(std::ptrdiff_t initial) : m_value(initial)
    {
        if (initial < 0)
        {
            throw std::invalid_argument(
                "weft: async_semaphore: the initial value must not be negative");
        }
    }
    async_semaphore(const async_semaphore&) = delete;
    async_semaphore& operator=(const async_semaphore&) = delete;
    ~async_semaphore() = default;

    /// `co_await acquire()` takes one permit, suspending until one is free. Throws
    /// operation_cancelled if the task's stop token is stopped first.
    [[nodiscard]] acquire_awaiter acquire() noexcept { return acquire_awaiter(*this); }

    /// Takes a permit if one is free; never suspends.
    [[nodiscard]] bool try_acquire() noexcept
    {
        if (m_value == 0)
        {
            return false;
        }
        --m_value;
        return true;
    }

    /// Gives back `n` permits, each to the oldest waiter if there is one. Throws
    /// std::invalid_argument when `n` is negative.
    void release(std::ptrdiff_t n = 1)
    {
        if (n < 0)
        {
            throw std::invalid_argument("weft: async_semaphore::release: negative count");
        }
        for (; n > 0; --n)
        {
            release_one();
        }
    }

    /// The number of free permits (0 while tasks are waiting).
    [[nodiscard]] std::ptrdiff_t value() const noexcept { return m_value; }

  private:
    void release_one() noexcept
    {
        if (m_waiters.empty())
        {
            ++m_value;
        }
        else
        {
            m_waiters.front<detail::waiter>().resume_with(detail::waiter::outcome::woken,
                                                          &m_handed);
        }
    }

    detail::waiter_list m_handed;  // woken waiters holding a permit but not resumed yet
    detail::waiter_list m_waiters; // tasks waiting for a permit, oldest first
    std::ptrdiff_t m_value;
};

} // namespace weft
