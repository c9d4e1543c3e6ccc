#include "executors/interprocess/detail/condition_state.hpp"

#include <algorithm>
#include <climits>

#include <linux/futex.h>

#include "executors/interprocess/detail/shared_futex.hpp"
#include "runtime/errors.hpp"

namespace weft::detail
{

condition_state::condition_state() = default;

std::uint32_t condition_state::enter()
{
    for (std::uint32_t i = 0; i < max_waiters; ++i)
    {
        slot& s = m_slots[i];
        if (s.in_use != 0)
        {
            continue;
        }
        // A free slot's mutex is free, or owner-died when its waiter died after abandon():
        // a try (a deadline already passed) is enough, and owner_died is expected news.
        if (!s.alive.acquire(clock::time_point{}).acquired)
        {
            continue;
        }
        s.word.store(0, std::memory_order_relaxed);
        s.ticket = m_next_ticket++;
        s.in_use = 1;
        ++m_in_use;
        return i;
    }
    throw invalid_state_error("weft: interprocess::condition: too many waiters (at most 256)");
}

void condition_state::sleep(std::uint32_t index, std::optional<clock::time_point> deadline) noexcept
{
    std::atomic<std::uint32_t>& word = m_slots[index].word;
    while (word.load(std::memory_order_acquire) == 0)
    {
        if (!shared_futex_wait_until(word, 0, deadline))
        {
            return;
        }
    }
}

bool condition_state::leave(std::uint32_t index) noexcept
{
    slot& s = m_slots[index];
    const bool notified = s.word.load(std::memory_order_acquire) != 0;
    try
    {
        s.alive.release();
    }
    catch (...)
    {
        // Not held by this thread: only possible if the slot was corrupted; keep going.
    }
    s.in_use = 0;
    --m_in_use;
    return notified;
}

void condition_state::abandon(std::uint32_t index) noexcept
{
    try
    {
        m_slots[index].alive.release();
    }
    catch (...)
    {
    }
}

bool condition_state::waiter_died(const slot& s) const noexcept
{
    // Documentation/locking/robust-futex-ABI: the kernel leaves FUTEX_OWNER_DIED and no TID in
    // the word of a robust mutex whose holder died; abandon() leaves it unlocked (no TID).
    const std::uint32_t word = s.alive.futex_word().load(std::memory_order_acquire);
    return (word & FUTEX_TID_MASK) == 0 || (word & FUTEX_OWNER_DIED) != 0;
}

void condition_state::notify(std::size_t n)
{
    if (n == 0 || m_in_use == 0)
    {
        return;
    }
    std::uint32_t waiting[max_waiters];
    std::uint32_t count = 0;
    for (std::uint32_t i = 0; i < max_waiters; ++i)
    {
        const slot& s = m_slots[i];
        if (s.in_use != 0 && s.word.load(std::memory_order_relaxed) == 0)
        {
            waiting[count++] = i;
        }
    }
    std::sort(waiting, waiting + count,
              [this](std::uint32_t a, std::uint32_t b)
              { return m_slots[a].ticket < m_slots[b].ticket; });
    for (std::uint32_t k = 0; k < count && n > 0; ++k)
    {
        slot& s = m_slots[waiting[k]];
        if (waiter_died(s))
        {
            s.in_use = 0;
            --m_in_use;
            continue;
        }
        s.word.store(1, std::memory_order_release);
        shared_futex_wake(s.word, INT_MAX);
        --n;
    }
}

void condition_state::notify_all()
{
    notify(max_waiters);
}

std::uint32_t condition_state::n_waiting() const noexcept
{
    std::uint32_t count = 0;
    for (const slot& s : m_slots)
    {
        if (s.in_use != 0 && s.word.load(std::memory_order_relaxed) == 0 && !waiter_died(s))
        {
            ++count;
        }
    }
    return count;
}

} // namespace weft::detail
