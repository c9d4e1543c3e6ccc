// The awaitable forms of the interprocess semaphore and event: an io_uring FUTEX_WAIT on the
// state's word where the kernel has it (Linux 6.7), a retry every millisecond elsewhere.
#include "executors/interprocess/event.hpp"
#include "executors/interprocess/semaphore.hpp"
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

} // namespace weft::interprocess
