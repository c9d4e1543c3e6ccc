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

// Sleeps on `word` while it holds `seen`, having raised `flag` (claimed by the waker), until
// `until`. False when the deadline passed.
bool sleep_on(std::atomic<std::uint32_t>& word, std::uint32_t seen,
              std::atomic<std::uint32_t>& flag,
              const std::optional<std::chrono::steady_clock::time_point>& until)
{
    if (spin_for([&] { return word.load(std::memory_order_acquire) != seen; }, g_spin))
    {
        return true;
    }
    flag.store(1, std::memory_order_seq_cst);
    if (word.load(std::memory_order_seq_cst) != seen)
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

// Every sleeper of the side wakes and looks again (one that finds nothing sleeps again with
// its flag up): a flag cannot count sleepers, and waking one could wake the one that is about
// to time out.
void queue_state::wake_getter() noexcept
{
    if (m_getters.load(std::memory_order_seq_cst) != 0 &&
        m_getters.exchange(0, std::memory_order_seq_cst) != 0)
    {
        shared_futex_wake(m_items_seq, INT32_MAX);
    }
}

void queue_state::wake_putter() noexcept
{
    if (m_putters.load(std::memory_order_seq_cst) != 0 &&
        m_putters.exchange(0, std::memory_order_seq_cst) != 0)
    {
        shared_futex_wake(m_room_seq, INT32_MAX);
    }
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
    {
        held lock(m_mutex);
        if (!fits(bytes))
        {
            seen = m_room_seq.load(std::memory_order_relaxed);
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
                seen = m_room_seq.load(std::memory_order_relaxed);
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
        m_items_seq.fetch_add(1, std::memory_order_seq_cst);
    }
    wake_getter();
    return true;
}

bool queue_state::try_get(std::string& out, std::uint32_t& seen, queue_fds fds)
{
    std::exception_ptr failed;
    {
        held lock(m_mutex);
        if (m_count == 0)
        {
            seen = m_items_seq.load(std::memory_order_relaxed);
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
        m_room_seq.fetch_add(1, std::memory_order_seq_cst);
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
    wake_putter();
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
        if (deadline_passed(until) || !sleep_on(m_room_seq, seen, m_putters, until))
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
        if (deadline_passed(until) || !sleep_on(m_items_seq, seen, m_getters, until))
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
    std::atomic<std::uint32_t> unclaimed{0}; // task_done wakes every joiner anyway
    for (;;)
    {
        std::uint32_t seen = 0;
        if (all_done(seen))
        {
            return true;
        }
        if (deadline_passed(until) || !sleep_on(m_done_seq, seen, unclaimed, until))
        {
            return all_done(seen);
        }
    }
}

} // namespace weft::detail
