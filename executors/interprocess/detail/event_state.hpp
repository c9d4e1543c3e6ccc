#pragma once
// The state behind weft::interprocess::event: Python's Event flag in shared memory.
//
// One futex word holds the flag (bit 0) and a count of set() calls (the other bits), so that
// a waiter woken by a set() returns true even when a clear() runs before it looks (as
// weft::event and Python's Event do), and so that a set() always changes the word a sleeper
// compares against.
//
// Memory: standard layout, no pointers, works at any address in any number of mappings and
// processes. The creator placement-constructs it once; no destructor needs to run.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <type_traits>

namespace weft::detail
{

struct event_state
{
    using clock = std::chrono::steady_clock;

    event_state() noexcept : m_word(0), m_sleepers(0) {}
    event_state(const event_state&) = delete;
    event_state& operator=(const event_state&) = delete;

    /// Raises the flag and wakes every waiter, in every process.
    void set() noexcept;
    /// Lowers the flag.
    void clear() noexcept;
    /// The flag now (a snapshot).
    [[nodiscard]] bool is_set() const noexcept
    {
        return (m_word.load(std::memory_order_acquire) & flag_bit) != 0;
    }

    /// Blocks until the flag is raised or `deadline` passes (none: forever; already passed:
    /// just looks). Returns true if the flag was raised, now or by a set() during the wait.
    bool wait(std::optional<clock::time_point> deadline) noexcept;

    /// For an awaitable wait: the word to FUTEX_WAIT on while it holds the value seen
    /// unset, between announce_sleeper() and retire_sleeper(); woke_since(seen) tells
    /// whether to return true.
    [[nodiscard]] std::atomic<std::uint32_t>& futex_word() noexcept { return m_word; }
    void announce_sleeper() noexcept { m_sleepers.fetch_add(1, std::memory_order_seq_cst); }
    void retire_sleeper() noexcept { m_sleepers.fetch_sub(1, std::memory_order_relaxed); }
    [[nodiscard]] static bool woke_since(std::uint32_t seen, std::uint32_t now) noexcept
    {
        return (now & flag_bit) != 0 || (now >> 1) != (seen >> 1);
    }

  private:
    static constexpr std::uint32_t flag_bit = 1;

    std::atomic<std::uint32_t> m_word;     // (sets << 1) | flag; the futex word
    std::atomic<std::uint32_t> m_sleepers; // waiters that may be asleep on m_word
};

static_assert(std::is_standard_layout_v<event_state>);

} // namespace weft::detail
