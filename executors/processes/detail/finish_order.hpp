#pragma once
// The order in which a map's chunks finish, for imap_unordered: each chunk's future reports its
// number from its done callback, on whichever thread completes it, and the consumer takes the
// numbers in that order.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

namespace weft::detail
{

/// Shared between the map and its chunks' callbacks (held by a shared_ptr: a callback may run
/// after the map is gone).
class finish_order
{
  public:
    void finished(std::uint64_t number)
    {
        std::lock_guard lock(m_mutex);
        m_finished.push_back(number);
        m_changed.notify_all();
    }

    /// Whether a finished chunk is waiting to be taken, or finishes before `deadline`.
    [[nodiscard]] bool wait_for_one(std::chrono::steady_clock::time_point deadline)
    {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_until(lock, deadline, [&] { return !m_finished.empty(); });
    }

    /// The number of the next chunk to finish, waiting for it (next(timeout) waits with a
    /// deadline through wait_for_one first).
    std::uint64_t take_next()
    {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [&] { return !m_finished.empty(); });
        const std::uint64_t number = m_finished.front();
        m_finished.pop_front();
        return number;
    }

  private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<std::uint64_t> m_finished;
};

} // namespace weft::detail
