#pragma once
// The intrusive FIFO of suspended tasks shared by the sync primitives.
//
// A waiter is the awaiter object itself, so it lives in the awaiting coroutine's frame and
// queuing allocates nothing. Its life:
//
//   idle ──await_suspend──► pending (linked in the primitive's wait list)
//     │                        │ woken by the primitive ─► woken (scheduled; linked in the
//     │                        │                            primitive's hand-off list, if any)
//     │                        │ cancel() on the loop ───► cancelled (scheduled, unlinked)
//     │                        │ primitive destroyed ────► abandoned (scheduled, unlinked)
//     └──completes at once──► woken or cancelled, never linked
//   await_resume: unlinks, drops the stop callback, then throws or returns the result.
//
// Nothing is ever resumed inline: every wake-up goes through event_loop::schedule, so wake-ups
// keep FIFO order and the stack stays flat however long a chain of hand-offs gets.
//
// Pointers in both directions are cut by destructors: a waiter's frame destroyed while it is
// queued unlinks itself, and a primitive destroyed while it holds waiters unlinks them and
// resumes them with invalid_state_error (abandon()), so neither side is left dangling.
// A primitive that hands a waiter something that must not be lost (a mutex, a permit, a queue
// item) keeps it in a hand-off list until it resumes; if its frame is destroyed first, its
// destructor gives the thing back (see the awaiters' destructors).
//
// Single loop, single thread: nothing here is atomic. Only the stop callback may fire on
// another thread, and the event loop forwards it so that cancel() runs on the loop thread.

#include <coroutine>
#include <cstddef>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>

#include "runtime/detail/cancellable.hpp"
#include "runtime/detail/task_promise.hpp"
#include "runtime/errors.hpp"
#include "runtime/event_loop.hpp"

namespace weft::detail
{

class waiter_list;

/// Base of every sync awaiter: list links, the suspended coroutine, its loop and its stop
/// callback, and how the wait ended.
class waiter : private cancellable
{
  public:
    enum class outcome
    {
        pending,   ///< not decided yet (idle or queued)
        woken,     ///< the primitive granted what was awaited
        cancelled, ///< the awaiting task's stop token was stopped first
        abandoned, ///< the primitive was destroyed first
    };

    waiter(const waiter&) = delete;
    waiter& operator=(const waiter&) = delete;
    waiter(waiter&&) = delete;
    waiter& operator=(waiter&&) = delete;

    [[nodiscard]] outcome state() const noexcept { return m_outcome; }
    /// True while the waiter sits in a primitive's wait list.
    [[nodiscard]] bool queued() const noexcept
    {
        return m_list != nullptr && m_outcome == outcome::pending;
    }
    /// True while the waiter was granted something and has not resumed yet.
    [[nodiscard]] bool handed() const noexcept
    {
        return m_list != nullptr && m_outcome == outcome::woken;
    }

    /// Takes the waiter out of the list it is in and resumes it at the loop's next turn with
    /// `result`. With `hand_off`, it stays linked there until it resumes, so that the primitive
    /// can take back what it was given if the frame is destroyed first.
    void resume_with(outcome result, waiter_list* hand_off = nullptr) noexcept;

    /// Called (already unlinked) when the primitive it waits on is destroyed: resumes it, if it
    /// was not already scheduled, with invalid_state_error.
    virtual void abandon() noexcept;

  protected:
    explicit waiter(const char* what) noexcept : m_what(what) {}
    ~waiter();

    /// Ends the await at once with outcome::cancelled when the token is already stopped.
    bool cancelled_early(const std::stop_token& token) noexcept
    {
        if (token.stop_requested())
        {
            m_outcome = outcome::cancelled;
            return true;
        }
        return false;
    }

    /// Queues the suspending coroutine at the back of `list` and arms the stop callback.
    void enqueue(waiter_list& list, std::coroutine_handle<> awaiting, std::stop_token token);

    /// The common await_suspend: cancelled at once, granted at once (`try_now()` returns true),
    /// or queued at the back of `list`. Returns whether the coroutine stays suspended.
    template <class Promise, class TryNow>
    bool suspend_on(waiter_list& list, std::coroutine_handle<Promise> awaiting, TryNow&& try_now)
    {
        std::stop_token token = stop_token_of(awaiting);
        if (cancelled_early(token))
        {
            return false;
        }
        if (std::forward<TryNow>(try_now)())
        {
            m_outcome = outcome::woken;
            return false;
        }
        enqueue(list, awaiting, std::move(token));
        return true;
    }

    /// The common start of await_resume: leaves every list, drops the stop callback, and throws
    /// operation_cancelled or invalid_state_error unless the waiter was woken.
    void finish();

    /// Leaves whatever list the waiter is in.
    void unlink() noexcept;

    /// Runs on the loop thread when the token is stopped: a waiter still queued leaves the list
    /// and resumes with operation_cancelled; one already woken keeps what it was given.
    void cancel() noexcept override;

  private:
    friend class waiter_list;

    void drop_stop_callback() noexcept
    {
        if (m_stop)
        {
            m_stop.reset();
            m_loop->forget_cancel(*this);
        }
    }

    waiter* m_prev = nullptr;
    waiter* m_next = nullptr;
    waiter_list* m_list = nullptr;
    const char* m_what;
    event_loop* m_loop = nullptr;
    std::coroutine_handle<> m_awaiting;
    stop_registration m_stop;
    outcome m_outcome = outcome::pending;
};

/// Intrusive doubly linked FIFO of waiters. Destroying it abandons whatever is still linked.
class waiter_list
{
  public:
    waiter_list() noexcept = default;
    waiter_list(const waiter_list&) = delete;
    waiter_list& operator=(const waiter_list&) = delete;
    ~waiter_list()
    {
        while (m_head != nullptr)
        {
            waiter& w = *m_head;
            erase(w);
            w.abandon();
        }
    }

    [[nodiscard]] bool empty() const noexcept { return m_head == nullptr; }
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }

    /// The oldest waiter, as the awaiter type the owning primitive queues (list not empty).
    template <class Waiter>
    [[nodiscard]] Waiter& front() const noexcept
    {
        return static_cast<Waiter&>(*m_head);
    }

    void push_back(waiter& w) noexcept
    {
        w.m_list = this;
        w.m_prev = m_tail;
        w.m_next = nullptr;
        if (m_tail != nullptr)
        {
            m_tail->m_next = &w;
        }
        else
        {
            m_head = &w;
        }
        m_tail = &w;
        ++m_size;
    }

    void erase(waiter& w) noexcept
    {
        if (w.m_prev != nullptr)
        {
            w.m_prev->m_next = w.m_next;
        }
        else
        {
            m_head = w.m_next;
        }
        if (w.m_next != nullptr)
        {
            w.m_next->m_prev = w.m_prev;
        }
        else
        {
            m_tail = w.m_prev;
        }
        w.m_prev = w.m_next = nullptr;
        w.m_list = nullptr;
        --m_size;
    }

    /// Resumes every queued waiter with outcome::woken, oldest first.
    void wake_all() noexcept
    {
        while (m_head != nullptr)
        {
            m_head->resume_with(waiter::outcome::woken);
        }
    }

  private:
    waiter* m_head = nullptr;
    waiter* m_tail = nullptr;
    std::size_t m_size = 0;
};

inline waiter::~waiter()
{
    drop_stop_callback();
    unlink();
}

inline void waiter::unlink() noexcept
{
    if (m_list != nullptr)
    {
        m_list->erase(*this);
    }
}

inline void waiter::resume_with(outcome result, waiter_list* hand_off) noexcept
{
    unlink();
    m_outcome = result;
    if (hand_off != nullptr)
    {
        hand_off->push_back(*this);
    }
    m_loop->schedule(m_awaiting);
}

inline void waiter::abandon() noexcept
{
    const bool already_scheduled = m_outcome != outcome::pending;
    m_outcome = outcome::abandoned;
    if (!already_scheduled)
    {
        m_loop->schedule(m_awaiting);
    }
}

inline void waiter::enqueue(waiter_list& list, std::coroutine_handle<> awaiting,
                            std::stop_token token)
{
    m_loop = &event_loop::require_current(m_what);
    m_awaiting = awaiting;
    list.push_back(*this);
    if (token.stop_possible())
    {
        // May run cancel() right here if the token was stopped a moment ago on another thread;
        // cancel() only schedules, so the coroutine still suspends before it is resumed.
        m_stop.emplace(std::move(token), cancel_callback{m_loop, this});
    }
}

inline void waiter::finish()
{
    unlink();
    drop_stop_callback();
    switch (m_outcome)
    {
    case outcome::cancelled:
        throw operation_cancelled();
    case outcome::abandoned:
        throw invalid_state_error(std::string("weft: ") + m_what +
                                  ": the primitive was destroyed while a task was waiting on it");
    case outcome::pending:
    case outcome::woken:
        break;
    }
}

inline void waiter::cancel() noexcept
{
    if (queued())
    {
        resume_with(outcome::cancelled);
    }
}

} // namespace weft::detail
