#include "executors/interprocess/detail/barrier_state.hpp"

#include "executors/interprocess/detail/shared_futex.hpp"
#include "runtime/errors.hpp"

namespace weft::detail
{

// The internal mutex, held for a scope. An owner-died acquire means another process died in
// the middle of an operation, so the counts cannot be trusted: the barrier breaks.
class barrier_state::held
{
  public:
    explicit held(barrier_state& b) : m_b(b) { lock(); }
    held(const held&) = delete;
    held& operator=(const held&) = delete;
    ~held()
    {
        if (m_locked)
        {
            unlock();
        }
    }

    void lock()
    {
        if (m_b.m_mutex.acquire(std::nullopt).owner_died)
        {
            m_b.break_barrier();
        }
        m_locked = true;
    }
    void unlock()
    {
        m_locked = false;
        m_b.m_mutex.release();
    }

  private:
    barrier_state& m_b;
    bool m_locked = false;
};

barrier_state::barrier_state(std::uint32_t parties)
    : m_mutex(false), m_generation(0), m_parties(parties)
{
}

bool barrier_state::wait_change(held& h, std::optional<clock::time_point> deadline)
{
    // Read under the mutex: a change after our unlock makes the futex see another value.
    const std::uint32_t seen = m_generation.load(std::memory_order_relaxed);
    ++m_sleepers;
    h.unlock();
    const bool in_time = shared_futex_wait_until(m_generation, seen, deadline);
    h.lock();
    --m_sleepers;
    return in_time || m_generation.load(std::memory_order_relaxed) != seen;
}

void barrier_state::changed() noexcept
{
    m_generation.fetch_add(1, std::memory_order_relaxed);
    if (m_sleepers > 0)
    {
        shared_futex_wake(m_generation);
    }
}

std::uint32_t barrier_state::wait_until(std::optional<clock::time_point> deadline,
                                        void (*run)(void*), void* action)
{
    held h(*this);
    // A previous round still draining (or being reset) is not ours to join.
    while (m_phase != phase::filling && m_phase != phase::broken)
    {
        (void)wait_change(h, std::nullopt);
    }
    if (m_phase == phase::broken)
    {
        throw broken_barrier_error();
    }
    const std::uint32_t index = m_count++;
    struct leaving
    {
        barrier_state& self;
        ~leaving() { self.leave(); }
    } on_exit{*this}; // runs with the mutex held, whichever way we leave (declared after h)

    if (index + 1 == m_parties)
    {
        m_phase = phase::tripping;
        if (run != nullptr)
        {
            h.unlock();
            try
            {
                run(action);
            }
            catch (...)
            {
                h.lock();
                break_barrier();
                throw;
            }
            h.lock();
        }
        if (m_phase != phase::tripping)
        {
            // The action (or another waiter meanwhile) aborted or reset the barrier.
            throw broken_barrier_error();
        }
        m_phase = phase::draining;
        changed();
        return index;
    }

    const auto released = [&] { return m_phase != phase::filling && m_phase != phase::tripping; };
    while (!released())
    {
        if (!wait_change(h, deadline) && !released())
        {
            if (m_phase == phase::tripping)
            {
                // Every party arrived in time; only the action is late (as weft::barrier).
                while (!released())
                {
                    (void)wait_change(h, std::nullopt);
                }
                break;
            }
            break_barrier();
            throw broken_barrier_error();
        }
    }
    if (m_phase != phase::draining)
    {
        throw broken_barrier_error();
    }
    return index;
}

barrier_state::arrival barrier_state::arrive()
{
    held h(*this);
    arrival a;
    if (m_phase != phase::filling && m_phase != phase::broken)
    {
        a.seen = m_generation.load(std::memory_order_relaxed);
        ++m_sleepers; // end_sleep() takes it back
        return a;
    }
    if (m_phase == phase::broken)
    {
        throw broken_barrier_error();
    }
    a.entered = true;
    a.index = m_count++;
    a.last = a.index + 1 == m_parties;
    if (a.last)
    {
        m_phase = phase::tripping;
    }
    return a;
}

void barrier_state::trip_done(bool ok)
{
    held h(*this);
    struct leaving
    {
        barrier_state& self;
        ~leaving() { self.leave(); }
    } on_exit{*this};
    if (!ok)
    {
        break_barrier();
        return;
    }
    if (m_phase != phase::tripping)
    {
        throw broken_barrier_error();
    }
    m_phase = phase::draining;
    changed();
}

barrier_state::progress barrier_state::poll_release(std::uint32_t& seen)
{
    held h(*this);
    if (m_phase == phase::filling || m_phase == phase::tripping)
    {
        seen = m_generation.load(std::memory_order_relaxed);
        ++m_sleepers;
        return progress::waiting;
    }
    const bool released = m_phase == phase::draining;
    leave();
    if (!released)
    {
        throw broken_barrier_error();
    }
    return progress::released;
}

void barrier_state::end_sleep()
{
    held h(*this);
    --m_sleepers;
}

void barrier_state::give_up() noexcept
{
    try
    {
        held h(*this);
        if (m_phase == phase::filling || m_phase == phase::tripping)
        {
            break_barrier();
        }
        leave();
    }
    catch (...)
    {
    }
}

void barrier_state::leave() noexcept
{
    if (--m_count == 0 && (m_phase == phase::draining || m_phase == phase::resetting))
    {
        m_phase = phase::filling;
        changed();
    }
}

void barrier_state::break_barrier() noexcept
{
    m_phase = phase::broken;
    changed();
}

void barrier_state::reset()
{
    held h(*this);
    if (m_count > 0)
    {
        if (m_phase == phase::filling || m_phase == phase::tripping || m_phase == phase::broken)
        {
            // Waiters inside throw; the last one out re-opens the barrier.
            m_phase = phase::resetting;
        }
    }
    else
    {
        m_phase = phase::filling;
    }
    changed();
}

void barrier_state::abort()
{
    held h(*this);
    break_barrier();
}

bool barrier_state::broken()
{
    held h(*this);
    return m_phase == phase::broken;
}

std::uint32_t barrier_state::n_waiting()
{
    held h(*this);
    return m_phase == phase::filling || m_phase == phase::tripping ? m_count : 0;
}

} // namespace weft::detail
