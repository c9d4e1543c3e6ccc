#include "executors/interprocess/detail/event_state.hpp"

#include "executors/interprocess/detail/shared_futex.hpp"

namespace weft::detail
{

void event_state::set() noexcept
{
    std::uint32_t word = m_word.load(std::memory_order_relaxed);
    do
    {
        if ((word & flag_bit) != 0)
        {
            // Already raised: nobody sleeps on a raised word (the set() that raised it changed
            // the word under every sleeper and woke them).
            return;
        }
    } while (!m_word.compare_exchange_weak(word, (word + 2) | flag_bit, std::memory_order_seq_cst,
                                           std::memory_order_relaxed));
    if (m_sleepers.load(std::memory_order_seq_cst) > 0)
    {
        shared_futex_wake(m_word);
    }
}

void event_state::clear() noexcept
{
    m_word.fetch_and(~flag_bit, std::memory_order_relaxed);
}

bool event_state::wait(std::optional<clock::time_point> deadline) noexcept
{
    const std::uint32_t seen = m_word.load(std::memory_order_acquire);
    if ((seen & flag_bit) != 0)
    {
        return true;
    }
    for (;;)
    {
        if (deadline_passed(deadline))
        {
            return false;
        }
        // Counted before the re-check, both seq_cst, and set() changes the word before it
        // reads the count: either set() sees us and wakes, or the futex sees the new word.
        announce_sleeper();
        bool in_time = true;
        if (m_word.load(std::memory_order_seq_cst) == seen)
        {
            in_time = shared_futex_wait_until(m_word, seen, deadline);
        }
        retire_sleeper();
        if (woke_since(seen, m_word.load(std::memory_order_acquire)))
        {
            return true;
        }
        if (!in_time)
        {
            return false;
        }
    }
}

} // namespace weft::detail
