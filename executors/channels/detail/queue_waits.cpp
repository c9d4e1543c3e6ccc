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

// Counted as a sleeper for as long as it lives, so that the other side issues its wake-up.
class counted
{
  public:
    counted(queue_state& state, bool getter) noexcept : m_state(state), m_getter(getter)
    {
        shift(1);
    }
    counted(const counted&) = delete;
    counted& operator=(const counted&) = delete;
    ~counted() { shift(-1); }

  private:
    void shift(int delta) noexcept
    {
        m_getter ? m_state.count_getter(delta) : m_state.count_putter(delta);
    }
    queue_state& m_state;
    bool m_getter;
};

task<void> wait_on(queue_state& state, std::atomic<std::uint32_t>& word, std::uint32_t seen,
                   bool getter)
{
    counted sleeper(state, getter);
    if (word.load(std::memory_order_seq_cst) != seen)
    {
        co_return; // it moved while we counted ourselves
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
