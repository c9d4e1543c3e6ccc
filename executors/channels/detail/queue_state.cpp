#include "executors/channels/detail/queue_state.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

#include "executors/detail/futex.hpp"
#include "executors/interprocess/detail/shared_futex.hpp"
#include "runtime/errors.hpp"

namespace weft::detail
{

// The queue's mutex for one operation. A process that died inside one (owner died) left the
// state as it was at its last store: every operation publishes with its final stores, so the
// queue goes on (the dead process's item is there or not).
class queue_state::held
{
  public:
    explicit held(robust_mutex_state& mutex) : m_mutex(mutex)
    {
        (void)m_mutex.acquire(std::nullopt);
    }
    held(const held&) = delete;
    held& operator=(const held&) = delete;
    ~held() { m_mutex.release(); }

  private:
    robust_mutex_state& m_mutex;
};

namespace
{

// Each record: [u32 length][u64 ticket (0: no descriptors)][length bytes].
constexpr std::uint64_t length_prefix = sizeof(std::uint32_t) + sizeof(std::uint64_t);

// A getter or putter about to sleep first spins about the price of one cross-CPU wake-up
// (FLOORS.md: ~50 µs here, so a little less): a busy peer answers sooner than a futex would.
// Never on one CPU, where spinning only delays the peer.
const std::chrono::nanoseconds g_spin = std::thread::hardware_concurrency() > 1
                                            ? std::chrono::microseconds(20)
                                            : std::chrono::nanoseconds(0);

using until_type = queue_state::deadline;

// Sleeps on the items or room word while it holds `seen` (sleeper bit clear), until `until`.
// False when the deadline passed.
bool sleep_on(std::atomic<std::uint32_t>& word, std::uint32_t seen, const until_type& until)
{
    constexpr std::uint32_t bit = queue_state::sleeper_bit;
    if (spin_for([&] { return (word.load(std::memory_order_acquire) & ~bit) != seen; }, g_spin))
    {
        return true;
    }
    if (!queue_state::mark_sleeper(word, seen))
    {
        return true;
    }
    return shared_futex_wait_until(word, seen | bit, until);
}

// The same for the done word, which has no sleeper bit: task_done wakes whenever it moves it.
bool sleep_on_done(std::atomic<std::uint32_t>& word, std::uint32_t seen, const until_type& until)
{
    if (spin_for([&] { return word.load(std::memory_order_acquire) != seen; }, g_spin))
    {
        return true;
    }
    return shared_futex_wait_until(word, seen, until);
}

} // namespace

queue_state::queue_state(std::uint64_t ring_bytes, std::uint64_t maxsize)
    : m_mutex(false), m_capacity(ring_bytes), m_maxsize(maxsize)
{
}

bool queue_state::fits(std::uint64_t bytes) const noexcept
{
    return (m_maxsize == 0 || m_count < m_maxsize) && m_capacity - (m_tail - m_head) >= bytes;
}

// `offset` is a place in the ring (below its capacity), taken modulo the capacity once per
// record (a 64-bit division per copy was a tenth of an uncontended put+get).
std::uint64_t queue_state::copy_in(std::uint64_t offset, const void* from, std::uint64_t n) noexcept
{
    const std::uint64_t first = std::min(n, m_capacity - offset);
    std::memcpy(ring() + offset, from, first);
    if (first < n)
    {
        std::memcpy(ring(), static_cast<const std::byte*>(from) + first, n - first);
    }
    const std::uint64_t next = offset + n;
    return next >= m_capacity ? next - m_capacity : next;
}

std::uint64_t queue_state::copy_out(std::uint64_t offset, void* to, std::uint64_t n) noexcept
{
    const std::uint64_t first = std::min(n, m_capacity - offset);
    std::memcpy(to, ring() + offset, first);
    if (first < n)
    {
        std::memcpy(static_cast<std::byte*>(to) + first, ring(), n - first);
    }
    const std::uint64_t next = offset + n;
    return next >= m_capacity ? next - m_capacity : next;
}

// The caller wakes every sleeper of the side, who look again (one that finds nothing marks the
// word and sleeps again): the bit cannot count sleepers, and waking one could wake one that
// is about to time out. The new value is computed from the one it replaces, so a sleeper's
// mark that lands between the load and the exchange is seen, not overwritten.
bool queue_state::bump(std::atomic<std::uint32_t>& word) noexcept
{
    std::uint32_t old = word.load(std::memory_order_relaxed);
    while (!word.compare_exchange_weak(old, (old | sleeper_bit) + 1, std::memory_order_seq_cst,
                                       std::memory_order_relaxed))
    {
    }
    return (old & sleeper_bit) != 0;
}

bool queue_state::try_put(std::string_view message, std::uint32_t& seen, queue_fds fds)
{
    const std::uint64_t bytes = length_prefix + message.size();
    if (bytes > m_capacity || message.size() > UINT32_MAX)
    {
        throw std::length_error("weft: queue: an item of " + std::to_string(message.size()) +
                                " bytes does not fit the queue's buffer of " +
                                std::to_string(m_capacity) +
                                " bytes: make the queue with a larger .buffer_bytes");
    }
    bool wake = false;
    {
        held lock(m_mutex);
        if (!fits(bytes))
        {
            seen = m_room_seq.load(std::memory_order_relaxed) & ~sleeper_bit;
            return false;
        }
        std::uint64_t ticket = 0;
        if (fds.attached != nullptr && !fds.attached->empty())
        {
            // Taken before the send: a putter that dies after sending must not leave its
            // ticket to the next one (a skipped number is harmless).
            ticket = ++m_last_ticket;
            // Not waiting: a full socket buffer is a full queue (a get makes room in both).
            if (!send_attachments(fds.socket, ticket, *fds.attached, false))
            {
                seen = m_room_seq.load(std::memory_order_relaxed) & ~sleeper_bit;
                return false;
            }
        }
        const auto length = static_cast<std::uint32_t>(message.size());
        std::byte prefix[length_prefix];
        std::memcpy(prefix, &length, sizeof length);
        std::memcpy(prefix + sizeof length, &ticket, sizeof ticket);
        const std::uint64_t at = copy_in(m_tail % m_capacity, prefix, length_prefix);
        (void)copy_in(at, message.data(), message.size());
        m_tail += bytes;
        ++m_count;
        ++m_unfinished;
        wake = bump(m_items_seq);
    }
    if (wake)
    {
        shared_futex_wake(m_items_seq, INT32_MAX);
    }
    return true;
}

bool queue_state::try_get(std::string& out, std::uint32_t& seen, queue_fds fds)
{
    std::exception_ptr failed;
    bool wake = false;
    {
        held lock(m_mutex);
        if (m_count == 0)
        {
            seen = m_items_seq.load(std::memory_order_relaxed) & ~sleeper_bit;
            return false;
        }
        std::uint32_t length = 0;
        std::uint64_t ticket = 0;
        std::byte prefix[length_prefix];
        const std::uint64_t at = copy_out(m_head % m_capacity, prefix, length_prefix);
        std::memcpy(&length, prefix, sizeof length);
        std::memcpy(&ticket, prefix + sizeof length, sizeof ticket);
        out.resize(length);
        (void)copy_out(at, out.data(), length);
        m_head += length_prefix + length;
        --m_count;
        wake = bump(m_room_seq);
        if (ticket != 0 && fds.received != nullptr)
        {
            // Under the mutex, as they were sent: the next datagram is this item's (a put that
            // died between its send and its record left one behind, which is skipped). The
            // ring is consistent before this: if it throws, the item is lost, not the queue.
            try
            {
                *fds.received = receive_attachments(fds.socket, ticket);
            }
            catch (...)
            {
                failed = std::current_exception();
            }
        }
    }
    if (wake)
    {
        shared_futex_wake(m_room_seq, INT32_MAX);
    }
    if (failed)
    {
        std::rethrow_exception(failed);
    }
    return true;
}

bool queue_state::put(std::string_view message, deadline until, queue_fds fds)
{
    for (;;)
    {
        std::uint32_t seen = 0;
        if (try_put(message, seen, fds))
        {
            return true;
        }
        if (deadline_passed(until) || !sleep_on(m_room_seq, seen, until))
        {
            return try_put(message, seen, fds); // one last look: room made at the deadline
        }
    }
}

bool queue_state::get(std::string& out, deadline until, queue_fds fds)
{
    for (;;)
    {
        std::uint32_t seen = 0;
        if (try_get(out, seen, fds))
        {
            return true;
        }
        if (deadline_passed(until) || !sleep_on(m_items_seq, seen, until))
        {
            return try_get(out, seen, fds);
        }
    }
}

std::uint64_t queue_state::size()
{
    held lock(m_mutex);
    return m_count;
}

bool queue_state::full()
{
    held lock(m_mutex);
    return m_maxsize != 0 && m_count >= m_maxsize;
}

void queue_state::task_done()
{
    bool finished = false;
    {
        held lock(m_mutex);
        if (m_unfinished == 0)
        {
            throw invalid_state_error("weft: joinable_queue: task_done() called too many times");
        }
        finished = --m_unfinished == 0;
        if (finished)
        {
            m_done_seq.fetch_add(1, std::memory_order_seq_cst);
        }
    }
    if (finished)
    {
        shared_futex_wake(m_done_seq, INT32_MAX);
    }
}

bool queue_state::all_done(std::uint32_t& seen)
{
    held lock(m_mutex);
    seen = m_done_seq.load(std::memory_order_relaxed);
    return m_unfinished == 0;
}

bool queue_state::join(deadline until)
{
    for (;;)
    {
        std::uint32_t seen = 0;
        if (all_done(seen))
        {
            return true;
        }
        if (deadline_passed(until) || !sleep_on_done(m_done_seq, seen, until))
        {
            return all_done(seen);
        }
    }
}

} // namespace weft::detail
