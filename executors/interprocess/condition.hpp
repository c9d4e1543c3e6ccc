#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "executors/interprocess/detail/condition_state.hpp"
#include "executors/interprocess/guard.hpp"
#include "executors/interprocess/lock.hpp"
#include "executors/interprocess/rlock.hpp"
#include "executors/shared/detail/shared_ref.hpp"
#include "runtime/errors.hpp"
#include "runtime/task.hpp"

namespace weft::interprocess
{

/// Python's multiprocessing.Condition: wait until notified, across processes, with the lock
/// that guards the shared state (its own rlock by default, or a given interprocess::lock or
/// rlock). notify(n) wakes exactly n waiters, oldest first; a waiter killed while it waits does
/// not swallow a notification. At most 256 waiters at once (a 257th wait() throws
/// invalid_state_error). Travels and lives as interprocess::lock.
///
/// wait and notify need the lock held by the calling thread: otherwise invalid_state_error
/// ("cannot wait on un-acquired lock", "cannot notify on un-acquired lock"), as in Python.
/// wait(timeout) returns false when it timed out; wait_for(pred, timeout) returns the
/// predicate's last value. Timeouts: none or negative: forever.
class condition
{
  public:
    /// A condition with a new rlock of its own.
    condition() : condition(std::optional<rlock>{}) {}
    /// A condition over `lock` (shared with whatever else uses it).
    explicit condition(rlock lock) : condition(std::optional<rlock>(std::move(lock))) {}
    explicit condition(interprocess::lock lock)
        : condition(std::optional<rlock>(rlock(lock.state_ref())))
    {
    }

    /// The lock's acquire and release (Python's Condition.acquire/release).
    acquired acquire(bool blocking = true) { return m_lock.acquire(blocking); }
    template <class Rep, class Period>
    acquired acquire(std::chrono::duration<Rep, Period> timeout)
    {
        return m_lock.acquire(timeout);
    }
    void release() { m_lock.release(); }
    /// Python's `with cond:`.
    [[nodiscard]] interprocess::guard<condition> guard()
    {
        return interprocess::guard<condition>(*this);
    }

    /// Releases the lock, sleeps until notified, re-acquires it. Returns true.
    bool wait() { return wait_until(std::nullopt); }
    /// As wait(), giving up after `timeout`: false when it timed out.
    template <class Rep, class Period>
    bool wait(std::chrono::duration<Rep, Period> timeout)
    {
        return wait_until(weft::detail::state_deadline(weft::detail::deadline::after(timeout)));
    }

    /// Waits until pred() is true; returns it.
    template <class Predicate>
    bool wait_for(Predicate pred)
    {
        while (!pred())
        {
            (void)wait();
        }
        return true;
    }
    /// Waits until pred() is true or `timeout` passed; returns pred()'s last value.
    template <class Predicate, class Rep, class Period>
    bool wait_for(Predicate pred, std::chrono::duration<Rep, Period> timeout)
    {
        const auto until = weft::detail::state_deadline(weft::detail::deadline::after(timeout));
        bool result = pred();
        while (!result)
        {
            if (until && std::chrono::steady_clock::now() >= *until)
            {
                break;
            }
            (void)wait_until(until);
            result = pred();
        }
        return result;
    }

    /// wait() for a coroutine on an event loop whose thread holds the lock: the lock is
    /// released while the coroutine sleeps (on its waiter slot's futex word, through io_uring
    /// on Linux 6.7+, a 1 ms retry before) and re-taken, through the loop too, before it
    /// resumes. A stop of the task's token throws operation_cancelled, after re-taking the lock
    /// at its saved recursion level, still through the loop (the stop does not cut that short:
    /// the lock must be held again on every way out). Only when the loop itself is stopped
    /// does the re-take block the thread.
    [[nodiscard]] task<void> async_wait();

    /// Wakes up to n waiters (oldest first). The caller must hold the lock.
    void notify(std::size_t n = 1)
    {
        require_owned("weft: interprocess::condition: cannot notify on un-acquired lock");
        m_state->notify(n);
    }
    /// Wakes every waiter. The caller must hold the lock.
    void notify_all()
    {
        require_owned("weft: interprocess::condition: cannot notify on un-acquired lock");
        m_state->notify_all();
    }

    template <class Archive>
    void save(Archive& archive) const
    {
        archive(m_state, m_lock);
    }
    template <class Archive>
    void load(Archive& archive)
    {
        archive(m_state, m_lock);
    }
    /// For cereal: a handle that refers to nothing until loaded.
    explicit condition(weft::detail::unloaded_t tag) noexcept : m_lock(tag) {}

  private:
    struct layout
    {
        weft::detail::robust_mutex_state lock; // the own rlock, when none was given
        weft::detail::condition_state state;
    };

    explicit condition(std::optional<rlock> given) : m_lock(weft::detail::unloaded)
    {
        auto memory = weft::detail::shared_ref<layout>::allocate(0);
        ::new (static_cast<void*>(&memory->state)) weft::detail::condition_state();
        m_state = memory.template sibling<weft::detail::condition_state>(offsetof(layout, state));
        if (given)
        {
            m_lock = std::move(*given);
        }
        else
        {
            rlock::init_state(&memory->lock);
            m_lock = rlock(
                memory.template sibling<weft::detail::robust_mutex_state>(offsetof(layout, lock)));
        }
    }

    // The user lock as condition_state::wait sees it.
    struct lock_view
    {
        weft::detail::robust_mutex_state* state;
        std::uint32_t release_all() { return state->release_all(); }
        void restore(std::uint32_t count) { (void)state->acquire_restore(count, std::nullopt); }
    };

    bool wait_until(std::optional<std::chrono::steady_clock::time_point> until)
    {
        require_owned("weft: interprocess::condition: cannot wait on un-acquired lock");
        lock_view view{&m_lock.state()};
        return m_state->wait(view, until);
    }

    void require_owned(const char* message) const
    {
        if (!m_lock.is_owned())
        {
            throw invalid_state_error(message);
        }
    }

    weft::detail::shared_ref<weft::detail::condition_state> m_state;
    rlock m_lock; // an rlock handle over the given lock's state: it keeps its own kind
};

} // namespace weft::interprocess
