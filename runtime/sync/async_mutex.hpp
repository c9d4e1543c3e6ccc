#pragma once

#include <coroutine>
#include <mutex>
#include <utility>

#include "runtime/errors.hpp"
#include "runtime/sync/detail/waiter_list.hpp"

namespace weft
{

/// A mutex for tasks on one event_loop (asyncio.Lock): `co_await m.lock()` suspends the task,
/// not the thread, until it owns the mutex, and yields a scoped_lock that unlocks when it goes
/// out of scope.
///
/// Fairness: FIFO. unlock() hands ownership straight to the oldest waiter, which resumes at the
/// loop's next turn; a task calling lock() or try_lock() meanwhile cannot barge in.
///
/// Cancellation: a lock() whose task's stop token is stopped leaves the queue and throws
/// operation_cancelled, so with_timeout(d, m.lock()) throws timeout_error. A waiter that was
/// already handed ownership keeps it; if its frame is destroyed before it resumes, ownership
/// passes on to the next waiter.
///
/// Threading: not thread-safe. Use it from tasks of a single loop, on that loop's thread.
/// Destroying a mutex that tasks are waiting on resumes them with invalid_state_error.
class async_mutex
{
  public:
    /// Owns a locked async_mutex and unlocks it when destroyed. Move-only.
    class scoped_lock
    {
      public:
        /// Owns nothing.
        scoped_lock() noexcept = default;
        /// Takes over a lock the caller already holds (after a successful try_lock()).
        scoped_lock(async_mutex& mutex, std::adopt_lock_t) noexcept : m_mutex(&mutex), m_owns(true)
        {
        }
        scoped_lock(scoped_lock&& other) noexcept
            : m_mutex(std::exchange(other.m_mutex, nullptr)),
              m_owns(std::exchange(other.m_owns, false))
        {
        }
        scoped_lock& operator=(scoped_lock&& other) noexcept
        {
            if (this != &other)
            {
                release();
                m_mutex = std::exchange(other.m_mutex, nullptr);
                m_owns = std::exchange(other.m_owns, false);
            }
            return *this;
        }
        scoped_lock(const scoped_lock&) = delete;
        scoped_lock& operator=(const scoped_lock&) = delete;
        ~scoped_lock() { release(); }

        /// Unlocks early. Throws invalid_state_error when this guard does not own the mutex.
        void unlock()
        {
            if (!m_owns)
            {
                throw invalid_state_error("weft: async_mutex::scoped_lock::unlock: not locked");
            }
            release();
        }

        /// True while this guard holds the mutex.
        [[nodiscard]] bool owns_lock() const noexcept { return m_owns; }
        /// The mutex this guard refers to, or nullptr.
        [[nodiscard]] async_mutex* mutex() const noexcept { return m_mutex; }

      private:
        friend class async_condition;

        void release() noexcept
        {
            if (m_owns)
            {
                m_owns = false;
                m_mutex->release();
            }
        }

        async_mutex* m_mutex = nullptr;
        bool m_owns = false;
    };

    /// What lock() returns; `co_await` it for a scoped_lock.
    class [[nodiscard]] lock_awaiter : public detail::waiter
    {
      public:
        explicit lock_awaiter(async_mutex& mutex) noexcept
            : waiter("async_mutex::lock"), m_mutex(&mutex)
        {
        }
        // Moved only before it is awaited (with_timeout wraps it in a task).
        lock_awaiter(lock_awaiter&& other) noexcept : lock_awaiter(*other.m_mutex) {}
        lock_awaiter(const lock_awaiter&) = delete;
        lock_awaiter& operator=(const lock_awaiter&) = delete;
        lock_awaiter& operator=(lock_awaiter&&) = delete;
        ~lock_awaiter()
        {
            // Ownership was handed over but the frame is going away without resuming: pass it
            // on rather than leave the mutex locked forever.
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
            return suspend_on(m_mutex->m_waiters, awaiting, [this] { return m_mutex->try_lock(); });
        }

        [[nodiscard]] scoped_lock await_resume()
        {
            finish();
            return scoped_lock(*m_mutex, std::adopt_lock);
        }

      private:
        async_mutex* m_mutex;
    };

    async_mutex() noexcept = default;
    async_mutex(const async_mutex&) = delete;
    async_mutex& operator=(const async_mutex&) = delete;
    ~async_mutex() = default;

    /// `co_await lock()` suspends until the calling task owns the mutex and gives a scoped_lock.
    /// Throws operation_cancelled if the task's stop token is stopped first (ownership is then
    /// not taken).
    [[nodiscard]] lock_awaiter lock() noexcept { return lock_awaiter(*this); }

    /// Takes the mutex if it is free and nobody is queued; never suspends. The caller must
    /// unlock() it (or adopt it into a scoped_lock).
    [[nodiscard]] bool try_lock() noexcept
    {
        if (m_locked)
        {
            return false;
        }
        m_locked = true;
        return true;
    }

    /// Releases the mutex, handing it to the oldest waiter if there is one. Throws
    /// invalid_state_error when the mutex is not locked.
    void unlock()
    {
        if (!m_locked)
        {
            throw invalid_state_error("weft: async_mutex::unlock: the mutex is not locked");
        }
        release();
    }

    /// True while some task owns the mutex (or it has been handed to a waiter not yet resumed).
    [[nodiscard]] bool locked() const noexcept { return m_locked; }

  private:
    friend class async_condition;

    void release() noexcept
    {
        if (m_waiters.empty())
        {
            m_locked = false;
        }
        else
        {
            // m_locked stays true: ownership moves to the waiter without a gap anyone could
            // take it in.
            m_waiters.front<detail::waiter>().resume_with(detail::waiter::outcome::woken,
                                                          &m_handed);
        }
    }

    detail::waiter_list m_handed;  // woken waiters that own the mutex but have not resumed
    detail::waiter_list m_waiters; // tasks waiting for the mutex, oldest first
    bool m_locked = false;
};

} // namespace weft
