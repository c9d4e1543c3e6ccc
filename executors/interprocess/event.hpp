#pragma once

#include <chrono>

#include "executors/interprocess/detail/event_state.hpp"
#include "executors/interprocess/detail/robust_lock.hpp"
#include "executors/shared/detail/shared_ref.hpp"
#include "runtime/task.hpp"

namespace weft::interprocess
{

/// Python's multiprocessing.Event: a flag shared by processes; wait() sleeps (on a shared futex)
/// until some process sets it. Travels and lives as interprocess::lock. Timeouts as
/// weft::event: none or negative: forever; zero: look once.
class event
{
  public:
    /// A new, clear event. Throws std::system_error when shared memory cannot be made.
    event() : m_state(weft::detail::shared_ref<weft::detail::event_state>::make(0)) {}

    /// Raises the flag and wakes every waiter, in every process.
    void set() { m_state->set(); }
    /// Lowers the flag.
    void clear() { m_state->clear(); }
    [[nodiscard]] bool is_set() const noexcept { return m_state->is_set(); }

    /// Blocks until the flag is raised; returns true.
    bool wait() { return m_state->wait(std::nullopt); }
    /// Waits at most `timeout`; returns the flag (false: timed out).
    template <class Rep, class Period>
    bool wait(std::chrono::duration<Rep, Period> timeout)
    {
        return m_state->wait(weft::detail::state_deadline(weft::detail::deadline::after(timeout)));
    }

    /// Waits without blocking the event loop (io_uring FUTEX_WAIT on Linux 6.7+, a check every
    /// millisecond before). A stop of the task's token throws operation_cancelled.
    [[nodiscard]] task<void> async_wait();

    template <class Archive>
    void save(Archive& archive) const
    {
        archive(m_state);
    }
    template <class Archive>
    void load(Archive& archive)
    {
        archive(m_state);
    }
    /// For cereal: a handle that refers to nothing until loaded.
    explicit event(weft::detail::unloaded_t) noexcept {}

  private:
    weft::detail::shared_ref<weft::detail::event_state> m_state;
};

} // namespace weft::interprocess
