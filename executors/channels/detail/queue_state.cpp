#include "executors/channels/detail/queue_state.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

#include <linux/futex.h>

#include "executors/detail/futex.hpp"
#include "executors/interprocess/detail/shared_futex.hpp"
#include "runtime/errors.hpp"

namespace weft::detail
{

// One side's mutex for one operation. A process that died inside one (owner died) left its
// side as it was at its last store, but for the pair of stores that publish (position and
// count): the journal says which of the two it made, and recover() completes the other.
class queue_state::held
{
  public:
    explicit held(robust_mutex_state& mutex)
        : m_mutex(mutex), m_owner_died(m_mutex.acquire(std::nullopt).owner_died)
    {
    }
    held(const held&) = delete;
    held& operator=(const held&) = delete;
    ~held() { m_mutex.release(); }

    [[nodiscard]] bool owner_died() const noexcept { return m_owner_died; }

  private:
    robust_mutex_state& m_mutex;
    bool m_owner_died;
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

std::atomic<std::int64_t> g_dead_holder_check_ms{100};

// The spin before a sleep, cut short by a deadline nearer than that.
std::chrono::nanoseconds spin_budget(const queue_state::deadline& until)
{
    if (!until || g_spin.count() == 0)
    {
        return g_spin;
    }
    return std::min(g_spin, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                *until - queue_state::clock::now()));
}

// The kernel sets FUTEX_OWNER_DIED in a robust mutex's word when its holder dies with it, and
// the next lock clears it.
bool holder_died(const robust_mutex_state& mutex) noexcept
{
    return (mutex.futex_word().load(std::memory_order_acquire) & FUTEX_OWNER_DIED) != 0;
}

} // namespace

queue_state::queue_state(std::uint64_t ring_bytes, std::uint64_t maxsize)
    : m_capacity(ring_bytes), m_maxsize(maxsize), m_put_mutex(false), m_get_mutex(false)
{
}

std::chrono::milliseconds queue_state::dead_holder_check() noexcept
{
    return std::chrono::milliseconds(g_dead_holder_check_ms.load(std::memory_order_relaxed));
}

void queue_state::set_dead_holder_check(std::chrono::milliseconds every) noexcept
{
    g_dead_holder_check_ms.store(every.count(), std::memory_order_relaxed);
}

bool queue_state::sleep_on(std::atomic<std::uint32_t>& word, std::uint32_t seen,
                           const deadline& until)
{
    if (spin_for([&] { return (word.load(std::memory_order_acquire) & ~sleeper_bit) != seen; },
                 spin_budget(until)))
    {
        return true;
    }
    if (!mark_sleeper(word, seen))
    {
        return true;
    }
    // A wait that times out leaves its bit up (other sleepers may be on the same value, and
    // clearing it would lose their wake-up): the next change pays one needless FUTEX_WAKE.
    for (;;)
    {
        const clock::time_point check = clock::now() + dead_holder_check();
        if (until && *until <= check)
        {
            return shared_futex_wait_until(word, seen | sleeper_bit, until);
        }
        // Asleep again, without looking at the queue, while nobody died: an idle sleeper costs
        // one wake-up per check and no lock. A changed word ends the wait at once.
        if (shared_futex_wait_until(word, seen | sleeper_bit, check) || take_over_dead_holders())
        {
            return true; // the caller looks again
        }
    }
}

bool queue_state::take_over_dead_holders()
{
    const deadline try_once = clock::time_point{};
    const auto take_over = [&](robust_mutex_state& mutex, void (queue_state::*repair)() noexcept)
    {
        if (!holder_died(mutex))
        {
            return false;
        }
        const auto taken = mutex.acquire(try_once);
        if (!taken.acquired)
        {
            return false; // a live process took it first, and repairs it
        }
        if (taken.owner_died)
        {
            (this->*repair)();
        }
        mutex.release();
        return taken.owner_died;
    };
    const bool puts = take_over(m_put_mutex, &queue_state::repair_put_side);
    const bool gets = take_over(m_get_mutex, &queue_state::repair_get_side);
    return puts || gets;
}

void queue_state::repair_put_side() noexcept
{
    if (recover(m_put_journal, m_tail, m_puts))
    {
        // The dead putter's count may have been one item too many: joiners look again.
        m_done_seq.fetch_add(1, std::memory_order_seq_cst);
        shared_futex_wake(m_done_seq, INT32_MAX);
    }
    // It may have died between publishing and waking, or between bumping and waking.
    (void)bump(m_items_seq);
    shared_futex_wake(m_items_seq, INT32_MAX);
}

void queue_state::repair_get_side() noexcept
{
    (void)recover(m_get_journal, m_head, m_gets);
    (void)bump(m_room_seq);
    shared_futex_wake(m_room_seq, INT32_MAX);
}

// A put stores its count, then its position (a get can then never count more items taken
// than put); a get stores its position, then its count (a put then never sees room that is
// not there yet). Either way the count goes with the position: if the position was stored,
// so must the count be.
bool queue_state::recover(journal& pending, const std::atomic<std::uint64_t>& position,
                          std::atomic<std::uint64_t>& count) noexcept
{
    const std::uint64_t at = pending.position.load(std::memory_order_acquire);
    if (at == 0)
    {
        return false;
    }
    const std::uint64_t counted = pending.count.load(std::memory_order_relaxed);
    const bool published = position.load(std::memory_order_relaxed) == at;
    count.store(published ? counted : counted - 1, std::memory_order_release);
    pending.clear();
    return true;
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
    held lock(m_put_mutex);
    if (lock.owner_died())
    {
        repair_put_side();
    }
    // Read before looking for room: a get that makes room after this ends this value of the
    // word (its bump comes after its stores), so a sleep on `seen` cannot miss that get.
    seen = m_room_seq.load(std::memory_order_acquire) & ~sleeper_bit;
    const std::uint64_t tail = m_tail.load(std::memory_order_relaxed);
    const std::uint64_t puts = m_puts.load(std::memory_order_relaxed);
    const bool room =
        (m_maxsize == 0 || puts - m_gets.load(std::memory_order_acquire) < m_maxsize) &&
        m_capacity - (tail - m_head.load(std::memory_order_acquire)) >= bytes;
    if (!room)
    {
        return false;
    }
    std::uint64_t ticket = 0;
    if (fds.attached != nullptr && !fds.attached->empty())
    {
        // Taken before the send: a putter that dies after sending must not leave its ticket to
        // the next one (a skipped number is harmless).
        ticket = ++m_last_ticket;
        // Not waiting: a full socket buffer is a full queue (a get makes room in both).
        if (!send_attachments(fds.socket, ticket, *fds.attached, false))
        {
            return false;
        }
    }
    const auto length = static_cast<std::uint32_t>(message.size());
    std::byte prefix[length_prefix];
    std::memcpy(prefix, &length, sizeof length);
    std::memcpy(prefix + sizeof length, &ticket, sizeof ticket);
    const std::uint64_t at = copy_in(tail % m_capacity, prefix, length_prefix);
    (void)copy_in(at, message.data(), message.size());
    // Count first: a get (which sees only the position) can then never count more items taken
    // than put, and task_done never more done than put.
    m_put_journal.record(tail + bytes, puts + 1);
    m_puts.store(puts + 1, std::memory_order_release);
    m_tail.store(tail + bytes, std::memory_order_release);
    m_put_journal.clear();
    // Woken under the put mutex, which the getters do not take: a putter killed between the
    // bump and the wake-up leaves its mutex to the next putter, who wakes them (above).
    if (bump(m_items_seq))
    {
        shared_futex_wake(m_items_seq, INT32_MAX);
    }
    return true;
}

bool queue_state::try_get(std::string& out, std::uint32_t& seen, queue_fds fds)
{
    std::exception_ptr failed;
    {
        held lock(m_get_mutex);
        if (lock.owner_died())
        {
            repair_get_side();
        }
        seen = m_items_seq.load(std::memory_order_acquire) & ~sleeper_bit; // as in try_put
        const std::uint64_t head = m_head.load(std::memory_order_relaxed);
        if (m_tail.load(std::memory_order_acquire) == head)
        {
            return false;
        }
        std::uint32_t length = 0;
        std::uint64_t ticket = 0;
        std::byte prefix[length_prefix];
        const std::uint64_t at = copy_out(head % m_capacity, prefix, length_prefix);
        std::memcpy(&length, prefix, sizeof length);
        std::memcpy(&ticket, prefix + sizeof length, sizeof ticket);
        out.resize(length);
        (void)copy_out(at, out.data(), length);
        const std::uint64_t gets = m_gets.load(std::memory_order_relaxed);
        // Position first: a put (which frees room by both) never sees room that is not there.
        m_get_journal.record(head + length_prefix + length, gets + 1);
        m_head.store(head + length_prefix + length, std::memory_order_release);
        m_gets.store(gets + 1, std::memory_order_release);
        m_get_journal.clear();
        if (ticket != 0 && fds.received != nullptr)
        {
            // Under the get mutex, in the order they were sent (under the put mutex, in the
            // order of the records): the next datagram is this item's (a put that died
            // between its send and its record left one behind, which is skipped). The ring is
            // consistent before this: if it throws, the item is lost, not the queue.
            try
            {
                *fds.received = receive_attachments(fds.socket, ticket);
            }
            catch (...)
            {
                failed = std::current_exception();
            }
        }
        // After the datagram left the socket: a putter that found the socket full and then
        // saw this bump (or slept on the value it ends) looks again when there is room.
        if (bump(m_room_seq))
        {
            shared_futex_wake(m_room_seq, INT32_MAX); // under the get mutex: as in try_put
        }
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
        if (deadline_passed(until))
        {
            return false; // put_nowait, or the last look below was the deadline's
        }
        if (!sleep_on(m_room_seq, seen, until))
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
        if (deadline_passed(until))
        {
            return false;
        }
        if (!sleep_on(m_items_seq, seen, until))
        {
            return try_get(out, seen, fds);
        }
    }
}

std::uint64_t queue_state::size()
{
    take_over_dead_holders(); // a putter killed between its two stores counted one item more
    // Gets first: a count of gets read before the puts never exceeds them.
    const std::uint64_t gets = m_gets.load(std::memory_order_acquire);
    const std::uint64_t puts = m_puts.load(std::memory_order_acquire);
    return puts > gets ? puts - gets : 0;
}

bool queue_state::full()
{
    return m_maxsize != 0 && size() >= m_maxsize;
}

void queue_state::task_done()
{
    std::uint64_t done = m_done.load(std::memory_order_acquire);
    do
    {
        if (done >= m_puts.load(std::memory_order_acquire))
        {
            throw invalid_state_error("weft: joinable_queue: task_done() called too many times");
        }
    } while (!m_done.compare_exchange_weak(done, done + 1, std::memory_order_acq_rel));
    if (done + 1 == m_puts.load(std::memory_order_acquire))
    {
        m_done_seq.fetch_add(1, std::memory_order_seq_cst);
        shared_futex_wake(m_done_seq, INT32_MAX);
    }
}

bool queue_state::all_done(std::uint32_t& seen)
{
    seen = m_done_seq.load(std::memory_order_seq_cst);
    // Done before puts: done never passes puts, so done then >= puts later proves every item
    // was done then. Read the other way round, a put and a task_done between the two loads
    // (of another item) would end a join while an earlier item is still being worked on.
    const std::uint64_t done = m_done.load(std::memory_order_acquire);
    return done >= m_puts.load(std::memory_order_acquire);
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
        if (deadline_passed(until))
        {
            return false;
        }
        if (spin_for([&] { return m_done_seq.load(std::memory_order_acquire) != seen; },
                     spin_budget(until)))
        {
            continue;
        }
        // The done word has no sleeper bit: task_done wakes whenever it moves it. A task_done
        // or putter killed before its wake-up is caught by looking again every
        // dead_holder_check.
        const clock::time_point check = clock::now() + dead_holder_check();
        if (until && *until <= check)
        {
            if (!shared_futex_wait_until(m_done_seq, seen, until))
            {
                return all_done(seen);
            }
        }
        else if (!shared_futex_wait_until(m_done_seq, seen, check))
        {
            take_over_dead_holders();
        }
    }
}

} // namespace weft::detail
