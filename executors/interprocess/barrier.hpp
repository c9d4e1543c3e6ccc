#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "executors/interprocess/detail/barrier_state.hpp"
#include "executors/interprocess/detail/robust_lock.hpp"
#include "executors/processes/detail/code_address.hpp"
#include "executors/shared/detail/shared_ref.hpp"
#include "runtime/task.hpp"

namespace weft::interprocess
{

/// Python's multiprocessing.Barrier: wait() blocks until `parties` waiters, in any processes,
/// wait; each gets a distinct arrival index (0 first, parties - 1 last), and the action, if
/// any, runs once per round in the last one to arrive, in its process, before anyone is
/// released. abort(), a timeout and a throwing action break it (broken_barrier_error for every
/// waiter until reset()), as weft::barrier. Travels and lives as interprocess::lock.
///
/// The action is a plain function (or a captureless lambda): it must make sense in every
/// process that may arrive last, so it travels by its address in the executable, as process
/// targets do. A process that dies while holding the barrier's internal lock breaks it; one
/// that dies while waiting is still counted (as in Python): use a timeout where that matters.
class barrier
{
  public:
    /// Throws std::invalid_argument when parties < 1.
    explicit barrier(std::ptrdiff_t parties, void (*action)() = nullptr,
                     std::chrono::nanoseconds timeout = std::chrono::nanoseconds(-1))
        : m_state(weft::detail::shared_ref<weft::detail::barrier_state>::make(0, checked(parties))),
          m_action(action), m_timeout(timeout)
    {
    }

    /// Blocks until `parties` waiters wait, or the default timeout passes; returns the arrival
    /// index. Throws broken_barrier_error when the barrier is or becomes broken, and the
    /// action's exception in the waiter that ran it.
    std::size_t wait() { return wait_until(weft::detail::deadline::after(m_timeout)); }
    /// As wait(), with `timeout` (negative: forever) instead of the default.
    template <class Rep, class Period>
    std::size_t wait(std::chrono::duration<Rep, Period> timeout)
    {
        return wait_until(weft::detail::deadline::after(timeout));
    }

    /// wait() for a coroutine: the loop keeps running while it waits (io_uring FUTEX_WAIT on
    /// the barrier's generation word, Linux 6.7+; a 1 ms retry before). No timeout of its own
    /// (wrap it in with_timeout): a stop of the task's token breaks the barrier, as a timeout
    /// does, and throws operation_cancelled. The action runs on the loop's thread.
    [[nodiscard]] task<std::size_t> async_wait();

    /// Back to empty and unbroken; waiters inside throw broken_barrier_error.
    void reset() { m_state->reset(); }
    /// Breaks it for current and later waiters until reset().
    void abort() { m_state->abort(); }
    [[nodiscard]] bool broken() const { return m_state->broken(); }
    [[nodiscard]] std::size_t n_waiting() const { return m_state->n_waiting(); }
    [[nodiscard]] std::size_t parties() const noexcept { return m_state->parties(); }

    template <class Archive>
    void save(Archive& archive) const
    {
        const bool has_action = m_action != nullptr;
        archive(m_state, has_action, static_cast<std::int64_t>(m_timeout.count()));
        if (has_action)
        {
            archive(weft::detail::locate_code(reinterpret_cast<std::uintptr_t>(m_action)));
        }
    }
    template <class Archive>
    void load(Archive& archive)
    {
        bool has_action = false;
        std::int64_t timeout = 0;
        archive(m_state, has_action, timeout);
        m_timeout = std::chrono::nanoseconds(timeout);
        m_action = nullptr;
        if (has_action)
        {
            weft::detail::code_address where;
            archive(where);
            m_action = reinterpret_cast<void (*)()>(weft::detail::resolve_code(where));
        }
    }
    /// For cereal: a handle that refers to nothing until loaded.
    explicit barrier(weft::detail::unloaded_t) noexcept {}

  private:
    static std::uint32_t checked(std::ptrdiff_t parties)
    {
        if (parties < 1 || parties > 0x7fffffff)
        {
            throw std::invalid_argument("weft: interprocess::barrier: parties must be > 0");
        }
        return static_cast<std::uint32_t>(parties);
    }

    std::size_t wait_until(weft::detail::deadline when)
    {
        const auto until = weft::detail::state_deadline(when);
        if (m_action == nullptr)
        {
            return m_state->wait(until);
        }
        auto run = [action = m_action] { action(); };
        return m_state->wait(until, run);
    }

    weft::detail::shared_ref<weft::detail::barrier_state> m_state;
    void (*m_action)() = nullptr;
    std::chrono::nanoseconds m_timeout{-1};
};

} // namespace weft::interprocess
