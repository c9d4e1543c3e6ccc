// Taking back calls that wait in a worker's ring while another worker idles.
//
// Short tasks go many ahead into a worker's ring (task_timings), so that a worker never waits
// for the pool between them. A call of a short function can still run long (its input was
// large): the calls written behind it would then wait for it while other workers idle, where
// Python's Pool, whose workers pull from one queue, runs them at once. So when a worker idles
// and nothing is queued, the pool takes back a share of the calls waiting in the busiest ring
// and deals them out again.
//
// A worker claims each message by setting claimed_by_worker in its claim byte (the id's top
// byte, pool_task.hpp) before it reads past that byte; the pool takes a message back by
// setting taken_back there instead. Both use compare and swap, so exactly one of them wins,
// and the worker skips a message taken back. The pool alone writes the ring, under m_mutex: a
// claim byte the worker has not read past is still that message's, and one it has read past
// was claimed.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "executors/processes/detail/pool_core.hpp"
#include "executors/processes/detail/shm_channel.hpp"

namespace weft::detail
{
namespace
{

// Sets taken_back in the claim byte of `call`'s message, unless the worker claimed it first.
// `tail`: the worker's read position in its task ring, read before.
bool take_back_message(worker_slot& w, const pool_call_base& call, std::uint64_t tail) noexcept
{
    const std::uint64_t at = call.ring_at + claim_byte_at;
    if (tail > at)
    {
        return false; // read past its claim byte: claimed
    }
    auto* byte = reinterpret_cast<unsigned char*>(w.channel.task_bytes() +
                                                  (at & (w.channel.capacity() - 1)));
    return win_claim(*byte, taken_back_bit, claimed_bit);
}

// Calls waiting behind the front one that the pool may take back: only while every call the
// worker holds is whole in its ring, so that what stays is the ring's order with no gap.
std::size_t waiting(const worker_slot& w) noexcept
{
    if (w.killed || w.stop_sent || w.written != w.assigned.size() || w.written < 2)
    {
        return 0;
    }
    return w.written - 1;
}

} // namespace

bool pool_core::take_back_for_idle_workers()
{
    std::size_t idle = 0;
    worker_slot* busiest = nullptr;
    for (const auto& w : m_workers)
    {
        if (w->assigned.empty() && !w->stop_sent && !w->killed &&
            w->held != announce_outcome::worker_gone && (m_max_tasks == 0 || w->sent < m_max_tasks))
        {
            ++idle;
        }
        else if (waiting(*w) > 0 && (busiest == nullptr || waiting(*w) > waiting(*busiest)))
        {
            busiest = w.get();
        }
    }
    if (idle == 0 || busiest == nullptr)
    {
        return false;
    }
    // Each idle worker's share and the busy one's own, rounded towards the idle ones.
    const std::size_t behind = waiting(*busiest);
    const std::size_t share = (behind * idle + idle) / (idle + 1);
    return take_back(*busiest, std::min(share, behind)) > 0;
}

std::size_t pool_core::take_back(worker_slot& w, std::size_t most)
{
    if (most == 0 || waiting(w) == 0)
    {
        return 0;
    }
    shm_channel_header& header = w.channel.header();
    const std::uint64_t tail = header.tasks.tail.load(std::memory_order_seq_cst);
    // The worker claims in ring order, so the last ones are the likeliest still unclaimed. One
    // it claims meanwhile may come after one the pool took back (it skipped that one): what
    // stays keeps its order either way.
    std::vector<std::shared_ptr<pool_call_base>> back;
    const std::size_t from = w.assigned.size() - std::min(most, waiting(w));
    for (std::size_t i = from; i < w.assigned.size(); ++i)
    {
        if (take_back_message(w, *w.assigned[i], tail))
        {
            back.push_back(std::move(w.assigned[i]));
        }
    }
    if (back.empty())
    {
        return 0;
    }
    std::erase(w.assigned, nullptr);
    w.written -= back.size();
    w.sent -= static_cast<std::uint32_t>(back.size()); // max_tasks_per_child counts what it runs
    m_pending.insert(m_pending.begin(), std::make_move_iterator(back.begin()),
                     std::make_move_iterator(back.end()));
    // A waiter registered on this channel may wait for a call that left it: it looks again.
    if (header.waiters.load(std::memory_order_seq_cst) != 0)
    {
        header.waiter_bell.fetch_add(1, std::memory_order_seq_cst);
        if (header.waiter_sleepers.load(std::memory_order_seq_cst) != 0)
        {
            shared_futex_wake(header.waiter_bell);
        }
    }
    return back.size();
}

} // namespace weft::detail
