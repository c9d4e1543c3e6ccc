#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>

#include "executors/interprocess/detail/robust_lock.hpp"
#include "executors/interprocess/detail/semaphore_state.hpp"
#include "executors/interprocess/guard.hpp"
#include "executors/shared/detail/shared_ref.hpp"
#include "executors/threads/detail/guard.hpp"
#include "runtime/task.hpp"

namespace weft::interprocess
{

/// Python's multiprocessing.Semaphore: a counter shared by processes that acquire() decrements,
/// sleeping while it is zero (on a shared futex: no system call while permits are there), and
/// release(n) increments. Travels and lives as interprocess::lock (inheritance, or an argument
/// of a process target, pool task or initializer; freed with its last handle).
///
/// No owner: a permit taken by a process that dies stays taken, as in Python (a lock is what
/// reports a dead holder). Timeouts as weft::semaphore: none or negative: forever; zero: try.
class semaphore
{
  public:
    /// `value` permits. Throws std::invalid_argument when it is negative or above 2^32 - 1.
    explicit semaphore(std::ptrdiff_t value = 1) : semaphore(value, false) {}

    bool acquire(bool blocking = true)
    {
        return blocking ? acquire_until(weft::detail::deadline::never())
                        : acquire_until(weft::detail::deadline::after(std::chrono::seconds(0)));
    }
    template <class Rep, class Period>
    bool acquire(std::chrono::duration<Rep, Period> timeout)
    {
        return acquire_until(weft::detail::deadline::after(timeout));
    }
    /// Python's acquire(blocking, timeout). Throws std::invalid_argument when blocking is false.
    template <class Rep, class Period>
    bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout)
    {
        if (!blocking)
        {
            throw std::invalid_argument(
                "weft: semaphore: can't specify a timeout for a non-blocking call");
        }
        return acquire(timeout);
    }

    /// Adds `n` permits and wakes up to `n` sleepers. Throws std::invalid_argument for n = 0, and
    /// for a bounded_semaphore invalid_state_error("semaphore released too many times") when the
    /// value would pass the initial one (nothing is added then).
    void release(std::size_t n = 1)
    {
        if (n == 0)
        {
            throw std::invalid_argument("weft: semaphore: release(n) needs n >= 1");
        }
        if (n > std::numeric_limits<std::uint32_t>::max())
        {
            throw std::overflow_error("weft: semaphore: too many permits");
        }
        m_state->release(static_cast<std::uint32_t>(n));
    }

    /// The permits available now (a snapshot).
    [[nodiscard]] std::size_t value() const noexcept { return m_state->value(); }

    /// Takes a permit without blocking the event loop (io_uring FUTEX_WAIT on Linux 6.7+, a
    /// retry every millisecond before). A stop of the task's token throws operation_cancelled
    /// and takes nothing.
    [[nodiscard]] task<void> async_acquire();

    /// Lockable.
    void lock() { (void)acquire(); }
    [[nodiscard]] bool try_lock() { return acquire(false); }
    void unlock() { release(); }

    /// Python's `with sem:`.
    [[nodiscard]] weft::detail::guard<semaphore> guard()
    {
        return weft::detail::guard<semaphore>(*this);
    }

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
    explicit semaphore(weft::detail::unloaded_t) noexcept {}

  protected:
    semaphore(std::ptrdiff_t value, bool bounded)
        : m_state(weft::detail::shared_ref<weft::detail::semaphore_state>::make(
              0, checked(value),
              bounded ? std::optional<std::uint32_t>(checked(value)) : std::nullopt))
    {
    }

  private:
    static std::uint32_t checked(std::ptrdiff_t value)
    {
        if (value < 0)
        {
            throw std::invalid_argument("weft: semaphore: initial value must be >= 0");
        }
        if (static_cast<std::uint64_t>(value) > std::numeric_limits<std::uint32_t>::max())
        {
            throw std::invalid_argument("weft: semaphore: initial value must be < 2^32");
        }
        return static_cast<std::uint32_t>(value);
    }

    bool acquire_until(weft::detail::deadline when)
    {
        return m_state->acquire(weft::detail::state_deadline(when));
    }

    weft::detail::shared_ref<weft::detail::semaphore_state> m_state;
};

} // namespace weft::interprocess
