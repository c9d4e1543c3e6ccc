#include "executors/threads/barrier.hpp"

#include <stdexcept>
#include <utility>

#include "runtime/errors.hpp"

namespace weft
{

barrier::barrier(std::ptrdiff_t parties, std::function<void()> action,
                 std::chrono::nanoseconds timeout)
    : m_action(std::move(action)), m_timeout(timeout), m_parties(static_cast<std::size_t>(parties))
{
    if (parties < 1)
    {
        throw std::invalid_argument("weft: barrier: parties must be > 0");
    }
}

std::size_t barrier::wait_until(detail::deadline when)
{
    std::unique_lock<std::mutex> held(m_mutex);
    // A previous round still draining (or being reset) is not ours to join.
    m_changed.wait(held, [&] { return m_phase == phase::filling || m_phase == phase::broken; });
    if (m_phase == phase::broken)
    {
        throw broken_barrier_error();
    }
    const std::size_t index = m_count++;
    struct leaving
    {
        barrier& self;
        ~leaving() { self.leave(); }
    } on_exit{*this}; // runs with `held` locked, whichever way we leave

    if (index + 1 == m_parties)
    {
        m_phase = phase::tripping;
        if (m_action)
        {
            held.unlock();
            try
            {
                m_action();
            }
            catch (...)
            {
                held.lock();
                break_barrier();
                throw;
            }
            held.lock();
        }
        if (m_phase != phase::tripping)
        {
            // The action (or another thread meanwhile) aborted or reset the barrier.
            throw broken_barrier_error();
        }
        m_phase = phase::draining;
        m_changed.notify_all();
        return index;
    }

    const auto released = [&] { return m_phase != phase::filling && m_phase != phase::tripping; };
    if (!when.wait(m_changed, held, released))
    {
        if (m_phase == phase::tripping)
        {
            // Every party arrived before the deadline; only the action is late. Python's
            // action runs under the barrier's lock, so its waiters cannot time out then either.
            m_changed.wait(held, released);
        }
        else
        {
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

void barrier::leave() noexcept
{
    if (--m_count == 0 && (m_phase == phase::draining || m_phase == phase::resetting))
    {
        m_phase = phase::filling;
        m_changed.notify_all();
    }
}

void barrier::break_barrier() noexcept
{
    m_phase = phase::broken;
    m_changed.notify_all();
}

void barrier::reset()
{
    std::lock_guard<std::mutex> held(m_mutex);
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
    m_changed.notify_all();
}

void barrier::abort()
{
    std::lock_guard<std::mutex> held(m_mutex);
    break_barrier();
}

bool barrier::broken() const
{
    std::lock_guard<std::mutex> held(m_mutex);
    return m_phase == phase::broken;
}

std::size_t barrier::n_waiting() const
{
    std::lock_guard<std::mutex> held(m_mutex);
    return m_phase == phase::filling || m_phase == phase::tripping ? m_count : 0;
}

} // namespace weft
