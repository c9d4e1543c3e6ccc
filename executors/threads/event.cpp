#include "executors/threads/event.hpp"

namespace weft
{

void event::set()
{
    std::lock_guard<std::mutex> held(m_mutex);
    m_flag = true;
    ++m_sets;
    // Under the mutex: a woken waiter may destroy the event as soon as it can take m_mutex.
    m_raised.notify_all();
}

void event::clear()
{
    std::lock_guard<std::mutex> held(m_mutex);
    m_flag = false;
}

bool event::is_set() const
{
    std::lock_guard<std::mutex> held(m_mutex);
    return m_flag;
}

bool event::wait_until(detail::deadline when)
{
    std::unique_lock<std::mutex> held(m_mutex);
    const std::uint64_t seen = m_sets;
    return when.wait(m_raised, held, [&] { return m_flag || m_sets != seen; });
}

} // namespace weft
