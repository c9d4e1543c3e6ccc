#pragma once
// The futex calls the executors block on. Private futexes only: every waiter here is a thread of
// this process (the cross-process primitives use shared ones).

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>
#include <optional>
#include <unistd.h>

#include <linux/futex.h>
#include <sys/syscall.h>

namespace weft::detail
{

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

/// Sleeps while `word` holds `expected`, until woken or `deadline` passes (none: no limit).
/// Returns false only when the deadline passed; spurious wake-ups return true, so callers loop.
inline bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       std::optional<std::chrono::steady_clock::time_point> deadline) noexcept
{
    timespec ts{};
    timespec* tsp = nullptr;
    if (deadline)
    {
        // steady_clock is CLOCK_MONOTONIC in libstdc++, the clock FUTEX_WAIT_BITSET uses by
        // default, so the deadline is absolute and a spurious wake-up does not extend it.
        auto since_epoch = deadline->time_since_epoch();
        if (since_epoch.count() < 0)
        {
            return false;
        }
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
        ts.tv_sec = static_cast<time_t>(secs.count());
        ts.tv_nsec = static_cast<long>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs).count());
        tsp = &ts;
    }
    long rc = ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word),
                        FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, tsp, nullptr,
                        FUTEX_BITSET_MATCH_ANY);
    return !(rc == -1 && errno == ETIMEDOUT);
}

/// Wakes up to `count` threads sleeping on `word`.
inline void futex_wake(std::atomic<std::uint32_t>& word, int count = INT_MAX) noexcept
{
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
              count, nullptr, nullptr, 0);
}

/// Tells the CPU that this thread is spinning (lets a sibling hyperthread run).
inline void cpu_relax() noexcept
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

} // namespace weft::detail

namespace weft::detail
{

/// Spins until `ready()` or `budget` has passed; true when ready. Reads the clock every 32
/// rounds only, so the spin itself stays cheap.
template <class Ready>
bool spin_for(Ready&& ready, std::chrono::nanoseconds budget) noexcept
{
    if (budget <= budget.zero())
    {
        return ready();
    }
    auto until = std::chrono::steady_clock::now() + budget;
    for (unsigned i = 1;; ++i)
    {
        if (ready())
        {
            return true;
        }
        cpu_relax();
        if (i % 32 == 0 && std::chrono::steady_clock::now() >= until)
        {
            return ready();
        }
    }
}

} // namespace weft::detail
