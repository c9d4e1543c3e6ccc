#include "executors/threads/semaphore.hpp"

#include "runtime/errors.hpp"

namespace weft
{

semaphore::semaphore(std::ptrdiff_t value, bool bounded)
{
    if (value < 0)
    {
        throw std::invalid_argument("weft: semaphore: initial value must be >= 0");
    }
    m_value = static_cast<std::size_t>(value);
    m_bound = m_value;
    m_bounded = bounded;
}

bool semaphore::acquire_until(detail::deadline when)
{
    std::unique_lock<std::mutex> held(m_mutex);
    if (!when.wait(m_available, held, [&] { return m_value > 0; }))
    {
        return false;
    }
    --m_value;
    return true;
}

void semaphore::release(std::size_t n)
{
    if (n == 0)
    {
        throw std::invalid_argument("weft: semaphore: n must be one or more");
    }
    std::lock_guard<std::mutex> held(m_mutex);
    if (m_bounded && n > m_bound - m_value)
    {
        throw invalid_state_error("weft: bounded_semaphore: semaphore released too many times");
    }
    m_value += n;
    // Under the mutex, as lock::release(): a woken acquirer may destroy the semaphore.
    if (n == 1)
    {
        m_available.notify_one();
    }
    else
    {
        m_available.notify_all();
    }
}

std::size_t semaphore::value() const
{
    std::lock_guard<std::mutex> held(m_mutex);
    return m_value;
}

} // namespace weft
