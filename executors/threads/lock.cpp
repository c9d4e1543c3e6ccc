#include "executors/threads/lock.hpp"

#include "runtime/errors.hpp"

namespace weft
{

bool lock::acquire_until(detail::deadline when)
{
    std::unique_lock<std::mutex> held(m_mutex);
    if (!when.wait(m_released, held, [&] { return !m_locked; }))
    {
        return false;
    }
    m_locked = true;
    return true;
}

void lock::release()
{
    std::lock_guard<std::mutex> held(m_mutex);
    if (!m_locked)
    {
        throw invalid_state_error("weft: lock: release unlocked lock");
    }
    m_locked = false;
    // Notified under the mutex: the acquirer that wins may destroy the lock as soon as it can
    // take m_mutex, so the condition variable must not be touched after it is unlocked.
    m_released.notify_one();
}

bool lock::locked() const
{
    std::lock_guard<std::mutex> held(m_mutex);
    return m_locked;
}

} // namespace weft
