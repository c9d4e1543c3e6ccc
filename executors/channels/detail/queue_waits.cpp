// The awaitable waits of the queues: an io_uring FUTEX_WAIT on the state's word where the
// kernel has it (Linux 6.7), a retry every millisecond elsewhere.
#include <cerrno>

#include <sys/socket.h>
#include <system_error>

#include "executors/channels/detail/queue_codec.hpp"
#include "runtime/sleep.hpp"
#include "runtime/uring/futex_wait_operation.hpp"

namespace weft::detail
{
namespace
{

task<void> wait_on(queue_state& state, std::atomic<std::uint32_t>& word, std::uint32_t seen,
                   bool getter)
{
    getter ? state.announce_getter() : state.announce_putter();
    if (word.load(std::memory_order_seq_cst) != seen)
    {
        co_return; // it moved while we raised the flag
    }
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
    co_await wait_on(state, state.items_word(), seen, true);
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
        co_await uring::futex_wait_operation(state.done_word(), seen);
    }
    else
    {
        co_await sleep_for(std::chrono::milliseconds(1));
    }
}

task<void> wait_for_room(queue_state& state, std::uint32_t seen)
{
    co_await wait_on(state, state.room_word(), seen, false);
}

} // namespace weft::detail
