// The awaitable waits of the queues: an io_uring FUTEX_WAIT on the state's word where the
// kernel has it (Linux 6.7), a retry every millisecond elsewhere. Either way no longer than
// queue_state::dead_holder_check() at a time, then a look for a process that died holding a
// side's mutex before its wake-up (as the blocking waits do).
#include <cerrno>

#include <sys/socket.h>
#include <system_error>

#include "executors/channels/detail/queue_codec.hpp"
#include "runtime/errors.hpp"
#include "runtime/sleep.hpp"
#include "runtime/uring/futex_wait_operation.hpp"
#include "runtime/with_timeout.hpp"

namespace weft::detail
{
namespace
{

// Sleeps while `word` holds `expected`, looking for a dead mutex holder every
// dead_holder_check; returns when the word moved or one was taken over.
task<void> sleep_a_while(queue_state& state, std::atomic<std::uint32_t>& word,
                         std::uint32_t expected)
{
    for (;;)
    {
        bool slept_through = false;
        try
        {
            co_await with_timeout(queue_state::dead_holder_check(),
                                  uring::futex_wait_operation(word, expected));
        }
        catch (const timeout_error&)
        {
            slept_through = true;
        }
        if (!slept_through || state.take_over_dead_holders())
        {
            co_return;
        }
    }
}

task<void> wait_on(queue_state& state, std::atomic<std::uint32_t>& word, std::uint32_t seen)
{
    if (!uring::futex_wait_supported())
    {
        // No sleeper bit: nobody would be woken by it, and every change would pay a wake call.
        if ((word.load(std::memory_order_acquire) & ~queue_state::sleeper_bit) == seen)
        {
            co_await sleep_for(std::chrono::milliseconds(1));
            state.take_over_dead_holders(); // a load of two words when nobody died
        }
        co_return;
    }
    if (!queue_state::mark_sleeper(word, seen))
    {
        co_return; // it moved since the try: look again
    }
    co_await sleep_a_while(state, word, seen | queue_state::sleeper_bit);
}

} // namespace

std::shared_ptr<queue_carrier> queue_carrier::make()
{
    int pair[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    {
        throw std::system_error(errno, std::system_category(), "weft: queue: socketpair");
    }
    auto carrier = std::make_shared<queue_carrier>();
    carrier->send_end = uring::owned_fd(pair[0]);
    carrier->receive_end = uring::owned_fd(pair[1]);
    return carrier;
}

task<void> wait_for_items(queue_state& state, std::uint32_t seen)
{
    co_await wait_on(state, state.items_word(), seen);
}

task<void> wait_for_done(queue_state& state, std::uint32_t seen)
{
    // task_done wakes every sleeper on this word: no count to keep.
    if (state.done_word().load(std::memory_order_seq_cst) != seen)
    {
        co_return;
    }
    if (uring::futex_wait_supported())
    {
        co_await sleep_a_while(state, state.done_word(), seen);
    }
    else
    {
        co_await sleep_for(std::chrono::milliseconds(1));
        state.take_over_dead_holders();
    }
}

task<void> wait_for_room(queue_state& state, std::uint32_t seen)
{
    co_await wait_on(state, state.room_word(), seen);
}

} // namespace weft::detail
