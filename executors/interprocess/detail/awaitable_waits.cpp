// The awaitable forms of the interprocess semaphore, event, condition and barrier: an io_uring
// FUTEX_WAIT on the state's word where the kernel has it (Linux 6.7), a retry every millisecond
// elsewhere.
#include <coroutine>
#include <exception>

#include "executors/interprocess/barrier.hpp"
#include "executors/interprocess/condition.hpp"
#include "executors/interprocess/event.hpp"
#include "executors/interprocess/semaphore.hpp"
#include "runtime/event_loop.hpp"
#include "runtime/sleep.hpp"
#include "runtime/uring/futex_wait_operation.hpp"

namespace weft::interprocess
{
namespace
{

// A counted sleeper for as long as it lives, so that the waker issues its FUTEX_WAKE.
template <class State>
class sleeper
{
  public:
    explicit sleeper(State& state) noexcept : m_state(state) { m_state.announce_sleeper(); }
    sleeper(const sleeper&) = delete;
    sleeper& operator=(const sleeper&) = delete;
    ~sleeper() { m_state.retire_sleeper(); }

  private:
    State& m_state;
};

task<void> sleep_on(std::atomic<std::uint32_t>& word, std::uint32_t seen)
{
    if (uring::futex_wait_supported())
    {
        co_await uring::futex_wait_operation(word, seen);
    }
    else
    {
        co_await sleep_for(std::chrono::milliseconds(1));
    }
}

// Awaits a lock's async_acquire() under the loop's own stop token instead of the awaiting
// task's: a condition waiter whose wait was cancelled must still take its lock back, and
// through the loop, not by blocking it while another process holds the lock. Only a stop of
// the loop itself still reaches the acquire.
class acquire_under_loop_token
{
  public:
    explicit acquire_under_loop_token(task<acquired> inner) noexcept : m_handle(inner.release()) {}
    acquire_under_loop_token(const acquire_under_loop_token&) = delete;
    acquire_under_loop_token& operator=(const acquire_under_loop_token&) = delete;
    ~acquire_under_loop_token()
    {
        if (m_handle)
        {
            m_handle.destroy();
        }
    }

    [[nodiscard]] bool await_ready() const noexcept { return false; }

    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting)
    {
        auto& promise = m_handle.promise();
        promise.set_continuation(awaiting);
        promise.set_stop_token(event_loop::require_current("condition::async_wait").stop_token());
        return m_handle;
    }

    acquired await_resume() { return std::move(m_handle.promise()).result(); }

  private:
    std::coroutine_handle<task<acquired>::promise_type> m_handle;
};

} // namespace

task<void> semaphore::async_acquire()
{
    const auto state = m_state; // the memory outlives the wait, whatever happens to *this
    while (!state->try_acquire())
    {
        sleeper<weft::detail::semaphore_state> counted(*state);
        if (state->try_acquire()) // a release between the first look and the count
        {
            co_return;
        }
        co_await sleep_on(state->futex_word(), 0);
    }
}

task<void> event::async_wait()
{
    const auto state = m_state;
    const std::uint32_t seen = state->futex_word().load(std::memory_order_acquire);
    if (weft::detail::event_state::woke_since(seen, seen))
    {
        co_return; // already set
    }
    sleeper<weft::detail::event_state> counted(*state);
    for (;;)
    {
        const std::uint32_t now = state->futex_word().load(std::memory_order_acquire);
        if (weft::detail::event_state::woke_since(seen, now))
        {
            co_return;
        }
        co_await sleep_on(state->futex_word(), now);
    }
}

task<void> condition::async_wait()
{
    require_owned("weft: interprocess::condition: cannot wait on un-acquired lock");
    const auto state = m_state; // both segments outlive the wait
    rlock held_lock = m_lock;
    weft::detail::robust_mutex_state& lock = held_lock.state();
    const std::uint32_t slot = state->enter_waiter();
    std::uint32_t count = 0;
    try
    {
        count = lock.release_all();
    }
    catch (...)
    {
        (void)state->leave_waiter(slot);
        throw;
    }
    // Rethrown once the lock is held again: a stop of the task's token (a cancel, a timeout),
    // or a failed wait.
    std::exception_ptr interrupted;
    try
    {
        while (state->waiter_word(slot).load(std::memory_order_acquire) == 0)
        {
            co_await sleep_on(state->waiter_word(slot), 0);
        }
    }
    catch (...)
    {
        interrupted = std::current_exception();
    }
    bool relocked = false;
    try
    {
        (void)co_await acquire_under_loop_token(held_lock.async_acquire());
        relocked = true;
    }
    catch (...)
    {
        // Only when the loop itself is stopping (or the kernel refused the futex wait): the
        // lock must be held on every way out, and blocking is all that is left.
        if (!interrupted)
        {
            interrupted = std::current_exception();
        }
    }
    if (relocked)
    {
        lock.restore_count(count);
    }
    else
    {
        try
        {
            (void)lock.acquire_restore(count, std::nullopt);
        }
        catch (...)
        {
            state->abandon_waiter(slot); // not ours to free without the lock
            throw;
        }
    }
    (void)state->leave_waiter(slot);
    if (interrupted)
    {
        std::rethrow_exception(interrupted);
    }
}

task<std::size_t> barrier::async_wait()
{
    const auto state = m_state;
    const auto action = m_action;
    weft::detail::barrier_state::arrival arrived = state->arrive();
    while (!arrived.entered)
    {
        try
        {
            co_await sleep_on(state->generation(), arrived.seen);
        }
        catch (...)
        {
            state->end_sleep();
            throw;
        }
        state->end_sleep();
        arrived = state->arrive();
    }
    if (arrived.last)
    {
        bool ok = true;
        try
        {
            if (action != nullptr)
            {
                action();
            }
        }
        catch (...)
        {
            ok = false;
            state->trip_done(false);
            throw; // this waiter gets the action's exception, the others broken_barrier_error
        }
        state->trip_done(ok);
        co_return arrived.index;
    }
    for (;;)
    {
        std::uint32_t seen = 0;
        if (state->poll_release(seen) == weft::detail::barrier_state::progress::released)
        {
            co_return arrived.index;
        }
        try
        {
            co_await sleep_on(state->generation(), seen);
        }
        catch (...)
        {
            state->end_sleep();
            state->give_up();
            throw;
        }
        state->end_sleep();
    }
}

} // namespace weft::interprocess
