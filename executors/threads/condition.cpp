#include "executors/threads/condition.hpp"

#include <limits>

#include "runtime/errors.hpp"

namespace weft
{

condition::condition() : m_own(std::make_unique<rlock>()), m_rlock(m_own.get()) {}

condition::~condition() = default;

bool condition::acquire(bool blocking)
{
    return m_lock != nullptr ? m_lock->acquire(blocking) : m_rlock->acquire(blocking);
}

void condition::release()
{
    if (m_lock != nullptr)
    {
        m_lock->release();
    }
    else
    {
        m_rlock->release();
    }
}

bool condition::is_owned() const
{
    // A Lock has no owner; as in Python, "held by someone" stands in for "held by me".
    return m_lock != nullptr ? m_lock->locked() : m_rlock->is_owned();
}

std::size_t condition::release_save()
{
    if (m_lock != nullptr)
    {
        m_lock->release();
        return 1;
    }
    return m_rlock->release_all();
}

void condition::acquire_restore(std::size_t saved)
{
    if (m_lock != nullptr)
    {
        m_lock->acquire();
    }
    else
    {
        m_rlock->acquire_restore(saved);
    }
}

bool condition::wait_until(detail::deadline when)
{
    if (!is_owned())
    {
        throw invalid_state_error("weft: condition: cannot wait on un-acquired lock");
    }
    waiter self;
    std::list<waiter*>::iterator position;
    {
        // Queued before the lock is released, so a notify() that follows our release cannot
        // miss us.
        std::lock_guard<std::mutex> held(m_mutex);
        position = m_waiters.insert(m_waiters.end(), &self);
    }
    const std::size_t saved = release_save();
    bool notified = false;
    {
        std::unique_lock<std::mutex> held(m_mutex);
        notified = when.wait(self.wake, held, [&] { return self.notified; });
        if (!notified)
        {
            m_waiters.erase(position);
        }
    }
    acquire_restore(saved);
    return notified;
}

void condition::notify(std::size_t n)
{
    if (!is_owned())
    {
        throw invalid_state_error("weft: condition: cannot notify on un-acquired lock");
    }
    std::lock_guard<std::mutex> held(m_mutex);
    for (; n > 0 && !m_waiters.empty(); --n)
    {
        waiter* next = m_waiters.front();
        m_waiters.pop_front();
        next->notified = true;
        // Under m_mutex: the waiter (and its condition variable) lives until it sees the flag,
        // which it can only read under m_mutex.
        next->wake.notify_one();
    }
}

void condition::notify_all()
{
    notify(std::numeric_limits<std::size_t>::max());
}

} // namespace weft
