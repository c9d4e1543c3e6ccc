#pragma once

#include <coroutine>
#include <cstddef>
#include <limits>

#include "runtime/errors.hpp"
#include "runtime/sync/async_mutex.hpp"
#include "runtime/sync/detail/waiter_list.hpp"
#include "runtime/task.hpp"

namespace weft
{

/// A condition variable over an async_mutex for tasks on one event_loop (asyncio.Condition).
/// `co_await cv.wait(guard)` releases the mutex, suspends until notified, and owns the mutex
/// again when it returns or throws.
///
/// Notified waiters re-acquire the mutex in the order they were notified, behind tasks already
/// queued on it. Wake-ups may be spurious in the usual sense that the state may have changed
/// again by the time the waiter owns the mutex: test the condition in a loop, or use
/// wait(guard, predicate).
///
/// Cancellation: a wait whose task's stop token is stopped before it is notified stops waiting,
/// re-acquires the mutex (that re-acquisition cannot be cancelled, as in asyncio), then throws
/// operation_cancelled; with_timeout(d, cv.wait(guard)) throws timeout_error. A waiter already
/// notified ignores the stop and returns normally. A cancelled waiter never consumes a
/// notification.
///
/// Threading: not thread-safe. Use it from tasks of a single loop, on that loop's thread.
/// Destroying a condition that tasks wait on makes them re-acquire the mutex and throw
/// invalid_state_error.
class async_condition
{
  public:
    /// What wait(guard) returns; `co_await` it.
    class [[nodiscard]] wait_awaiter : public detail::waiter
    {
      public:
        wait_awaiter(async_condition& condition, async_mutex::scoped_lock& guard) noexcept
            : waiter("async_condition::wait"), m_condition(&condition), m_mutex(condition.m_mutex),
              m_guard(&guard)
        {
        }
        // Moved only before it is awaited (with_timeout wraps it in a task).
        wait_awaiter(wait_awaiter&& other) noexcept
            : wait_awaiter(*other.m_condition, *other.m_guard)
        {
        }
        wait_awaiter(const wait_awaiter&) = delete;
        wait_awaiter& operator=(const wait_awaiter&) = delete;
        wait_awaiter& operator=(wait_awaiter&&) = delete;
        ~wait_awaiter()
        {
            // The mutex was re-acquired for this waiter but the frame is going away without
            // resuming: pass the mutex on. (The guard was told at suspension that it no longer
            // owns the mutex, so it will not unlock it a second time.)
            if (handed())
            {
                unlink();
                m_mutex->release();
            }
        }

        [[nodiscard]] bool await_ready() const noexcept { return false; }

        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> awaiting)
        {
            if (!m_guard->owns_lock() || m_guard->mutex() != m_mutex)
            {
                throw invalid_state_error("weft: async_condition::wait: the guard does not own "
                                          "the condition's mutex");
            }
            std::stop_token token = detail::stop_token_of(awaiting);
            if (cancelled_early(token))
            {
                return false; // the mutex was never released
            }
            // Set before enqueue, which may run cancel() at once if another thread has just
            // stopped the token.
            m_phase = phase::notify_wait;
            enqueue(m_condition->m_waiters, awaiting, std::move(token));
            m_guard->m_owns = false;
            m_mutex->release();
            return true;
        }

        void await_resume()
        {
            const bool suspended = m_phase != phase::idle;
            finish(); // throws invalid_state_error if the mutex itself was destroyed
            if (suspended)
            {
                m_guard->m_owns = true;
            }
            if (m_cancelled)
            {
                throw operation_cancelled();
            }
            if (m_abandoned)
            {
                throw invalid_state_error("weft: async_condition::wait: the condition was "
                                          "destroyed while a task was waiting on it");
            }
        }

      private:
        friend class async_condition;

        enum class phase
        {
            idle,
            notify_wait, // in the condition's list
            reacquiring, // in the mutex's list, or resumed holding it
        };

        void cancel() noexcept override
        {
            if (m_phase == phase::notify_wait && queued())
            {
                m_cancelled = true;
                reacquire();
            }
        }

        void abandon() noexcept override
        {
            if (m_phase == phase::notify_wait)
            {
                m_abandoned = true;
                reacquire();
            }
            else
            {
                waiter::abandon();
            }
        }

        // Leaves the condition's list and queues for the mutex; it resumes once it owns it.
        void reacquire() noexcept
        {
            m_phase = phase::reacquiring;
            unlink();
            if (m_mutex->try_lock())
            {
                resume_with(outcome::woken, &m_mutex->m_handed);
            }
            else
            {
                m_mutex->m_waiters.push_back(*this);
            }
        }

        async_condition* m_condition;
        async_mutex* m_mutex;
        async_mutex::scoped_lock* m_guard;
        phase m_phase = phase::idle;
        bool m_cancelled = false;
        bool m_abandoned = false;
    };

    /// A condition over `mutex`, which must outlive it.
    explicit async_condition(async_mutex& mutex) noexcept : m_mutex(&mutex) {}
    async_condition(const async_condition&) = delete;
    async_condition& operator=(const async_condition&) = delete;
    ~async_condition() = default;

    [[nodiscard]] async_mutex& mutex() const noexcept { return *m_mutex; }

    /// `co_await wait(guard)`: releases the mutex `guard` owns, suspends until notified, and
    /// re-acquires it before returning. Throws invalid_state_error when `guard` does not own
    /// this condition's mutex, and operation_cancelled (still owning the mutex) if the task's
    /// stop token is stopped before a notification arrives.
    [[nodiscard]] wait_awaiter wait(async_mutex::scoped_lock& guard) noexcept
    {
        return wait_awaiter(*this, guard);
    }

    /// Waits until `predicate()` is true, testing it with the mutex held before the first wait
    /// and after each wake-up. Same ownership, errors and cancellation as wait(guard).
    template <class Predicate>
    [[nodiscard]] task<void> wait(async_mutex::scoped_lock& guard, Predicate predicate)
    {
        while (!predicate())
        {
            co_await wait(guard);
        }
    }

    /// Wakes up to `n` waiters, oldest first; each returns once it re-acquires the mutex.
    /// Throws invalid_state_error when the mutex is not locked (notify under the lock).
    void notify(std::size_t n = 1)
    {
        if (!m_mutex->locked())
        {
            throw invalid_state_error(
                "weft: async_condition::notify: the condition's mutex is not locked");
        }
        for (; n > 0 && !m_waiters.empty(); --n)
        {
            m_waiters.front<wait_awaiter>().reacquire();
        }
    }

    /// Wakes every waiter. Throws invalid_state_error when the mutex is not locked.
    void notify_all() { notify(std::numeric_limits<std::size_t>::max()); }

  private:
    async_mutex* m_mutex;
    detail::waiter_list m_waiters; // tasks waiting for a notification, oldest first
};

} // namespace weft
