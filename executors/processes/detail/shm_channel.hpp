#pragma once
// The shared memory between the pool and one worker process: two single-producer,
// single-consumer byte rings (tasks in, results out) and the words both sides sleep and wake
// on. A memfd holds it, so that a spawned or forkserver worker maps the same pages as its
// parent; a forked worker inherits the mapping.
//
// Why rings and not a pipe: FLOORS.md measured a cross-CPU wake-up at ~50 µs on the 2-core VM
// while a spinning peer answers in about a microsecond; with shared memory a busy peer never
// makes a system call, and a sleeping one costs exactly one futex or eventfd wake-up.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <new>
#include <optional>
#include <unistd.h>

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <system_error>

namespace weft::detail
{

/// One direction: a byte stream through `capacity` bytes of memory (a power of two). The
/// positions only grow; position % capacity is where a byte lives. Messages may be larger than
/// the ring: the producer writes what fits and continues when the consumer has made room.
struct shm_ring
{
    alignas(64) std::atomic<std::uint64_t> head{0}; // written by the producer
    alignas(64) std::atomic<std::uint64_t> tail{0}; // written by the consumer
};

/// The header at the start of the shared region; the two rings' bytes follow it.
struct shm_channel_header
{
    static constexpr std::uint32_t magic_value = 0x77667031; // "wfp1"
    std::uint32_t magic = magic_value;
    std::uint32_t capacity = 0; // bytes per ring
    shm_ring tasks;             // pool -> worker
    shm_ring results;           // worker -> pool
    // The worker sleeps on `worker_bell` (a shared futex) when it has nothing to read or no
    // room to write, after setting `worker_sleeping`; the pool rings the bell only when that
    // flag is set, so a busy worker costs the pool no system call.
    alignas(64) std::atomic<std::uint32_t> worker_bell{0};
    std::atomic<std::uint32_t> worker_sleeping{0};
    // Set by the worker while result bytes wait for room in a full ring: only then does the
    // pool ring the bell for the room it makes by reading. A worker asleep for another reason
    // (between tasks) would otherwise be woken for nothing after every result the pool read:
    // on one CPU that is a futex wake and a context switch inside the caller's round trip.
    std::atomic<std::uint32_t> results_blocked{0};
    // The pool's collector sets this before it sleeps in poll(); a worker that publishes a
    // result (or makes room for tasks) then writes the pool's eventfd, once.
    alignas(64) std::atomic<std::uint32_t> pool_sleeping{0};
    // Set by the pool while task bytes wait for room in a full ring: only then does the worker
    // announce the room it makes by reading (an announcement per task would wake the pool for
    // nothing on every round trip).
    std::atomic<std::uint32_t> tasks_blocked{0};
    // Threads of the pool blocked in result() on a call this worker holds register here and
    // collect its results themselves (pool_core_waiters.cpp): while any is registered the
    // worker leaves the collector thread asleep and, when one sleeps on `waiter_bell` (counted
    // in `waiter_sleepers`), rings that futex instead, so that a cold round trip is two
    // wake-ups (caller -> worker -> caller), not three.
    alignas(64) std::atomic<std::uint32_t> waiters{0};
    std::atomic<std::uint32_t> waiter_sleepers{0};
    std::atomic<std::uint32_t> waiter_bell{0};
    // The CPUs the worker and the last registered waiter last ran on (-1: unknown). Two sides
    // on one CPU must not spin waiting for each other (FLOORS.md: pure loss; each spin then
    // costs its whole budget before the other side runs), so each skips its spin when the
    // other was last seen on its own CPU. A hint: either may have moved since.
    std::atomic<std::int32_t> waiter_cpu{-1};
    alignas(64) std::atomic<std::int32_t> worker_cpu{-1};
    // The id of the task the worker is running (0: none yet). When the worker dies, the task
    // with this id is the one it held; the tasks queued behind it never started and are sent
    // to another worker.
    alignas(64) std::atomic<std::uint64_t> started{0};
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

/// A mapping of the region, in either process.
class shm_channel
{
  public:
    static constexpr std::uint32_t default_capacity = 1U << 20;

    shm_channel() = default;
    /// Maps `fd` (whose size is region_size(capacity)); `create` initialises the header.
    shm_channel(int fd, bool create, std::uint32_t capacity = default_capacity)
    {
        if (create)
        {
            if (::ftruncate(fd, static_cast<off_t>(region_size(capacity))) != 0)
            {
                throw std::system_error(errno, std::system_category(), "weft: ftruncate channel");
            }
        }
        else
        {
            // The worker learns the size from the header.
            void* peek = ::mmap(nullptr, sizeof(shm_channel_header), PROT_READ, MAP_SHARED, fd, 0);
            if (peek == MAP_FAILED)
            {
                throw std::system_error(errno, std::system_category(), "weft: mmap channel");
            }
            capacity = static_cast<const shm_channel_header*>(peek)->capacity;
            ::munmap(peek, sizeof(shm_channel_header));
        }
        m_size = region_size(capacity);
        void* base = ::mmap(nullptr, m_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (base == MAP_FAILED)
        {
            throw std::system_error(errno, std::system_category(), "weft: mmap channel");
        }
        m_base = static_cast<char*>(base);
        if (create)
        {
            auto* header = new (m_base) shm_channel_header();
            header->capacity = capacity;
        }
        m_capacity = capacity;
    }
    shm_channel(shm_channel&& other) noexcept { swap(other); }
    shm_channel& operator=(shm_channel&& other) noexcept
    {
        shm_channel gone(std::move(other));
        swap(gone);
        return *this;
    }
    shm_channel(const shm_channel&) = delete;
    shm_channel& operator=(const shm_channel&) = delete;
    ~shm_channel()
    {
        if (m_base != nullptr)
        {
            ::munmap(m_base, m_size);
        }
    }

    [[nodiscard]] static std::size_t region_size(std::uint32_t capacity) noexcept
    {
        return header_size() + 2 * static_cast<std::size_t>(capacity);
    }

    [[nodiscard]] shm_channel_header& header() const noexcept
    {
        return *reinterpret_cast<shm_channel_header*>(m_base);
    }
    [[nodiscard]] char* task_bytes() const noexcept { return m_base + header_size(); }
    [[nodiscard]] char* result_bytes() const noexcept
    {
        return m_base + header_size() + m_capacity;
    }
    [[nodiscard]] std::uint32_t capacity() const noexcept { return m_capacity; }

    /// Producer: copies up to `n` bytes in, publishes them; returns how many fit.
    std::size_t write_some(shm_ring& ring, char* bytes, const char* from, std::size_t n) noexcept
    {
        const std::uint64_t head = ring.head.load(std::memory_order_relaxed);
        const std::uint64_t tail = ring.tail.load(std::memory_order_acquire);
        const std::size_t room = m_capacity - static_cast<std::size_t>(head - tail);
        const std::size_t count = std::min(room, n);
        const std::size_t at = static_cast<std::size_t>(head) & (m_capacity - 1);
        const std::size_t first = std::min(count, m_capacity - at);
        std::memcpy(bytes + at, from, first);
        std::memcpy(bytes, from + first, count - first);
        // seq_cst: ordered before the producer's later load of the consumer's sleeping flag
        // (the consumer sets its flag, then reads head: one of the two sees the other).
        ring.head.store(head + count, std::memory_order_seq_cst);
        return count;
    }

    /// Consumer: copies up to `n` bytes out and frees them; returns how many there were.
    std::size_t read_some(shm_ring& ring, const char* bytes, char* to, std::size_t n) noexcept
    {
        const std::uint64_t tail = ring.tail.load(std::memory_order_relaxed);
        const std::uint64_t head = ring.head.load(std::memory_order_acquire);
        const std::size_t count = std::min(static_cast<std::size_t>(head - tail), n);
        const std::size_t at = static_cast<std::size_t>(tail) & (m_capacity - 1);
        const std::size_t first = std::min(count, m_capacity - at);
        std::memcpy(to, bytes + at, first);
        std::memcpy(to + first, bytes, count - first);
        ring.tail.store(tail + count, std::memory_order_seq_cst);
        return count;
    }

    [[nodiscard]] static std::size_t readable(const shm_ring& ring) noexcept
    {
        return static_cast<std::size_t>(ring.head.load(std::memory_order_seq_cst) -
                                        ring.tail.load(std::memory_order_relaxed));
    }
    [[nodiscard]] std::size_t writable(const shm_ring& ring) const noexcept
    {
        return m_capacity - static_cast<std::size_t>(ring.head.load(std::memory_order_relaxed) -
                                                     ring.tail.load(std::memory_order_seq_cst));
    }

  private:
    static constexpr std::size_t header_size() noexcept
    {
        return (sizeof(shm_channel_header) + 4095) & ~std::size_t{4095};
    }

    void swap(shm_channel& other) noexcept
    {
        std::swap(m_base, other.m_base);
        std::swap(m_size, other.m_size);
        std::swap(m_capacity, other.m_capacity);
    }

    char* m_base = nullptr;
    std::size_t m_size = 0;
    std::uint32_t m_capacity = 0;
};

/// Shared (not private) futex calls: the waker is another process.
inline void shared_futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept
{
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, nullptr,
              nullptr, 0);
}
/// As above, until `deadline` on the steady clock (none: no limit); false once it passed.
inline bool
shared_futex_wait_until(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                        std::optional<std::chrono::steady_clock::time_point> deadline) noexcept
{
    timespec ts{};
    timespec* tsp = nullptr;
    if (deadline)
    {
        // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, steady_clock's clock.
        const auto since_epoch = deadline->time_since_epoch();
        if (since_epoch.count() < 0)
        {
            return false;
        }
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
        ts.tv_sec = static_cast<time_t>(secs.count());
        ts.tv_nsec = static_cast<long>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs).count());
        tsp = &ts;
    }
    const long rc = ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_BITSET,
                              expected, tsp, nullptr, FUTEX_BITSET_MATCH_ANY);
    return !(rc == -1 && errno == ETIMEDOUT);
}
inline void shared_futex_wake(std::atomic<std::uint32_t>& word) noexcept
{
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr,
              nullptr, 0);
}

/// Wakes the worker if it sleeps (after the caller published bytes or made room). The
/// exchange makes the first waker the only one: until the worker runs again, later publishes
/// find the flag clear and make no system call (a burst of submits used to make one each,
/// four or five per sleep of the worker). The worker read the bell before it set the flag, so
/// the one increment still ends its wait.
inline void wake_worker(shm_channel_header& header) noexcept
{
    if (header.worker_sleeping.load(std::memory_order_seq_cst) != 0 &&
        header.worker_sleeping.exchange(0, std::memory_order_seq_cst) != 0)
    {
        header.worker_bell.fetch_add(1, std::memory_order_seq_cst);
        shared_futex_wake(header.worker_bell);
    }
}

} // namespace weft::detail
