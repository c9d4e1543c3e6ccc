#pragma once
// The futex calls of the cross-process states: SHARED futexes (no FUTEX_PRIVATE_FLAG), because
// the waker may be another process, with the word mapped at another address. A private futex
// is keyed by (address space, address) and a shared one by the page behind the address, so
// only the shared form meets across processes, or across two mappings in one process.
//
// The untimed/timed wait and the wake-all already exist for the process pool's channel
// (executors/processes/detail/shm_channel.hpp); they are reused, not duplicated, and this
// header adds what the states need besides: a counted wake and the deadline conversion that
// pthread_mutex_clocklock shares with FUTEX_WAIT_BITSET.

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>
#include <optional>
#include <unistd.h>

#include <linux/futex.h>
#include <sys/syscall.h>

#include "executors/processes/detail/shm_channel.hpp"

namespace weft::detail
{

// From shm_channel.hpp:
//   shared_futex_wait(word, expected)                     sleeps while word == expected
//   shared_futex_wait_until(word, expected, deadline)     the same; false once deadline passed
//   shared_futex_wake(word)                               wakes every sleeper

/// Wakes up to `count` sleepers on `word`, in any process.
inline void shared_futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept
{
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, count, nullptr,
              nullptr, 0);
}

/// `deadline` as an absolute CLOCK_MONOTONIC timespec: steady_clock is CLOCK_MONOTONIC in
/// libstdc++, the clock of FUTEX_WAIT_BITSET and of pthread_mutex_clocklock(CLOCK_MONOTONIC).
/// A point before the clock's epoch becomes the epoch (already passed).
inline timespec monotonic_timespec(std::chrono::steady_clock::time_point deadline) noexcept
{
    auto since_epoch = deadline.time_since_epoch();
    if (since_epoch.count() < 0)
    {
        since_epoch = since_epoch.zero();
    }
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(secs.count());
    ts.tv_nsec = static_cast<long>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs).count());
    return ts;
}

/// True once `deadline` (none: never) has passed.
inline bool deadline_passed(const std::optional<std::chrono::steady_clock::time_point>& deadline)
{
    return deadline && std::chrono::steady_clock::now() >= *deadline;
}

} // namespace weft::detail
