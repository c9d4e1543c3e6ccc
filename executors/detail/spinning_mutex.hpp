#pragma once
// A mutex for short critical sections that two busy threads take in turns: a locker that finds
// it held retries for a moment before it sleeps.

#include <mutex>
#include <thread>

#include "executors/detail/futex.hpp"

namespace weft::detail
{

/// std::mutex, except that lock() first retries try_lock() a bounded number of times (never
/// on one CPU, where the holder cannot run while we spin). With glibc's mutex a locker that
/// sleeps marks the lock contended, and the holder's unlock then makes a futex call to wake
/// it: the process pool's lock is held for well under a microsecond at a time, by a thread
/// submitting in a loop and by the collector taking results in turn, and each such hand-over
/// cost a futex wait and a futex wake, more than the sections themselves (BENCHMARKS.md
/// "Fewer system calls per task").
class spinning_mutex
{
  public:
    void lock() noexcept
    {
        for (int i = 0; i < g_spins; ++i)
        {
            if (m_mutex.try_lock())
            {
                return;
            }
            cpu_relax();
        }
        m_mutex.lock();
    }
    [[nodiscard]] bool try_lock() noexcept { return m_mutex.try_lock(); }
    void unlock() noexcept { m_mutex.unlock(); }

  private:
    // About a wake-up's worth of pauses (~50 ns each on recent x86).
    inline static const int g_spins = std::thread::hardware_concurrency() > 1 ? 100 : 0;
    std::mutex m_mutex;
};

} // namespace weft::detail
