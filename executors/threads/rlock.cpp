#include "executors/threads/rlock.hpp"

#include "runtime/errors.hpp"

namespace weft
{

bool rlock::acquire_until(detail::deadline when)
{
    const auto me = std::this_thread::get_id();
    std::unique_lock<std::mutex> held(m_mutex);
    if (m_owner == me)
    {
        ++m_count;
        return true;
    }
    if (!when.wait(m_released, held, [&] { return m_count == 0; }))
    {
        return false;
    }
    m_owner = me;
    m_count = 1;
    return true;
}

void rlock::release()
{
    std::lock_guard<std::mutex> held(m_mutex);
    if (m_count == 0 || m_owner != std::this_thread::get_id())
    {
        throw invalid_state_error("weft: rlock: cannot release un-acquired lock");
    }
    if (--m_count == 0)
    {
        m_owner = std::thread::id();
        // Under the mutex: the next owner may destroy the rlock once it can take m_mutex.
        m_released.notify_one();
    }
}

std::size_t rlock::release_all()
{
    std::lock_guard<std::mutex> held(m_mutex);
    const std::size_t count = m_count;
    m_count = 0;
    m_owner = std::thread::id();
    m_released.notify_one();
    return count;
}

void rlock::acquire_restore(std::size_t count)
{
    std::unique_lock<std::mutex> held(m_mutex);
    m_released.wait(held, [&] { return m_count == 0; });
    m_owner = std::this_thread::get_id();
    m_count = count;
}

bool rlock::locked() const
{
    std::lock_guard<std::mutex> held(m_mutex);
    return m_count > 0;
}

bool rlock::is_owned() const
{
    std::lock_guard<std::mutex> held(m_mutex);
    return m_count > 0 && m_owner == std::this_thread::get_id();
}

std::size_t rlock::recursion_count() const
{
    std::lock_guard<std::mutex> held(m_mutex);
    return m_owner == std::this_thread::get_id() ? m_count : 0;
}

} // namespace weft
