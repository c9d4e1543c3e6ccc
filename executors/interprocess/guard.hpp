#pragma once

#include <utility>

#include "executors/interprocess/acquired.hpp"

namespace weft::interprocess
{

/// Python's `with lock:` for the interprocess locks: acquires in the constructor, releases at
/// destruction unless released early; owner_died() reports what the acquire found. Move-only.
template <class Lock>
class [[nodiscard]] guard
{
  public:
    explicit guard(Lock& lock) : m_lock(&lock), m_owner_died(lock.acquire().owner_died()) {}
    guard(guard&& other) noexcept
        : m_lock(std::exchange(other.m_lock, nullptr)), m_owner_died(other.m_owner_died)
    {
    }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    guard& operator=(guard&&) = delete;
    ~guard()
    {
        if (m_lock != nullptr)
        {
            m_lock->release();
        }
    }

    /// The previous holder died holding the lock (see acquired::owner_died).
    [[nodiscard]] bool owner_died() const noexcept { return m_owner_died; }

    /// Releases now instead of at destruction; a second call does nothing.
    void release()
    {
        if (m_lock != nullptr)
        {
            std::exchange(m_lock, nullptr)->release();
        }
    }

    [[nodiscard]] bool owns() const noexcept { return m_lock != nullptr; }

  private:
    Lock* m_lock;
    bool m_owner_died;
};

} // namespace weft::interprocess
