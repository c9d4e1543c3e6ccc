#include "executors/interprocess/detail/semaphore_state.hpp"

#include <algorithm>
#include <climits>
#include <stdexcept>

#include "executors/interprocess/detail/shared_futex.hpp"
#include "runtime/errors.hpp"

namespace weft::detail
{

bool semaphore_state::try_acquire() noexcept
{
    std::uint32_t value = m_value.load(std::memory_order_relaxed);
    while (value > 0)
    {
        if (m_value.compare_exchange_weak(value, value - 1, std::memory_order_acquire,
                                          std::memory_order_relaxed))
        {
            return true;
        }
    }
    return false;
}

bool semaphore_state::acquire(std::optional<clock::time_point> deadline) noexcept
{
    for (;;)
    {
        if (try_acquire())
        {
            return true;
        }
        if (deadline_passed(deadline))
        {
            return false;
        }
        // Counted before the re-check, both seq_cst, and release() adds before it reads the
        // count: either release() sees us and wakes, or we see its permit and do not sleep.
        announce_sleeper();
        bool in_time = true;
        if (m_value.load(std::memory_order_seq_cst) == 0)
        {
            in_time = shared_futex_wait_until(m_value, 0, deadline);
        }
        retire_sleeper();
        if (!in_time)
        {
            // One last look: a permit released just as the time ran out is still ours to take.
            return try_acquire();
        }
    }
}

void semaphore_state::release(std::uint32_t n)
{
    if (n == 0)
    {
        throw std::invalid_argument("weft: semaphore: n must be one or more");
    }
    std::uint32_t value = m_value.load(std::memory_order_relaxed);
    for (;;)
    {
        // Checked in the same compare-and-swap that adds, so that two racing releases cannot
        // both pass the bound.
        if (m_bounded != 0 && (value > m_max || n > m_max - value))
        {
            throw invalid_state_error(
                "weft: interprocess::bounded_semaphore: semaphore released too many times");
        }
        if (n > UINT32_MAX - value)
        {
            throw std::overflow_error("weft: interprocess::semaphore: value would overflow");
        }
        if (m_value.compare_exchange_weak(value, value + n, std::memory_order_seq_cst,
                                          std::memory_order_relaxed))
        {
            break;
        }
    }
    if (m_sleepers.load(std::memory_order_seq_cst) > 0)
    {
        shared_futex_wake(m_value, static_cast<int>(std::min<std::uint32_t>(n, INT_MAX)));
    }
}

} // namespace weft::detail
