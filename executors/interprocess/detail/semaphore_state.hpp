#pragma once
// The state behind weft::interprocess::semaphore and bounded_semaphore: a counter in shared
// memory that acquire() decrements, sleeping on a shared futex while it is zero.
//
// Memory: standard layout, no pointers, works at any address in any number of mappings and
// processes. The creator placement-constructs it once; no destructor needs to run.
//
// No owner, so nothing to recover when a process dies: a permit taken by a process that died
// stays taken (as with Python's semaphores; a lock is what reports a dead holder).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <type_traits>

namespace weft::detail
{

struct semaphore_state
{
    using clock = std::chrono::steady_clock;

    /// `value` permits; with `max` > 0 the value may never pass `max` (a bounded semaphore
    /// passes its initial value). A negative initial value is the public side's error to raise.
    explicit semaphore_state(std::uint32_t value,
                             std::optional<std::uint32_t> bound = std::nullopt) noexcept
        : m_value(value), m_sleepers(0), m_max(bound.value_or(0)),
          m_bounded(bound.has_value() ? 1 : 0)
    {
    }
    semaphore_state(const semaphore_state&) = delete;
    semaphore_state& operator=(const semaphore_state&) = delete;

    /// Takes a permit, sleeping while there is none until `deadline` (none: forever; already
    /// passed: tries once). Returns whether it took one. No fairness among sleepers (Python
    /// promises none either).
    bool acquire(std::optional<clock::time_point> deadline) noexcept;

    /// Takes a permit if one is there now.
    bool try_acquire() noexcept;

    /// Adds `n` permits and wakes up to `n` sleepers. Throws std::invalid_argument when n is 0,
    /// weft::invalid_state_error("semaphore released too many times") when a bounded value
    /// would pass its bound (as weft::bounded_semaphore; nothing is added then), and
    /// std::overflow_error when the value would pass 2^32 - 1.
    void release(std::uint32_t n = 1);

    /// The permits available now (a snapshot).
    [[nodiscard]] std::uint32_t value() const noexcept
    {
        return m_value.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint32_t max() const noexcept { return m_max; }

    /// The word a sleeper waits on while it reads 0 (for an awaitable acquire: FUTEX_WAIT on
    /// it with 0 after announce_sleeper(), then retire_sleeper()).
    [[nodiscard]] std::atomic<std::uint32_t>& futex_word() noexcept { return m_value; }
    /// A sleeper counts itself before it re-checks the value and sleeps, so that release()
    /// can skip the wake-up system call when nobody sleeps.
    void announce_sleeper() noexcept { m_sleepers.fetch_add(1, std::memory_order_seq_cst); }
    void retire_sleeper() noexcept { m_sleepers.fetch_sub(1, std::memory_order_relaxed); }

  private:
    std::atomic<std::uint32_t> m_value;    // the permits; the futex word
    std::atomic<std::uint32_t> m_sleepers; // acquirers that may be asleep on m_value
    std::uint32_t m_max;                   // the bound, when m_bounded
    std::uint32_t m_bounded;               // 1: release may not take the value past m_max
};

static_assert(std::is_standard_layout_v<semaphore_state>);

} // namespace weft::detail
