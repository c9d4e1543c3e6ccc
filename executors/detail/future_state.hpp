#pragma once
// The state a future and its promise share: Python's four states in one atomic word (so done()
// and a successful result() take no lock), a mutex for the transitions and the callback list,
// and a futex on the same word for threads that block in result().

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "executors/detail/futex.hpp"
#include "runtime/errors.hpp"

namespace weft::detail
{

enum class future_status : std::uint32_t
{
    pending = 0,
    running = 1,
    cancelled = 2,
    finished = 3,
};

/// now + timeout on the steady clock; zero or negative: now; capped at a century, so that a
/// huge timeout (nanoseconds::max()) cannot overflow the clock.
template <class Rep, class Period>
std::chrono::steady_clock::time_point deadline_after(std::chrono::duration<Rep, Period> timeout)
{
    auto now = std::chrono::steady_clock::now();
    if (timeout <= timeout.zero())
    {
        return now;
    }
    constexpr auto century = std::chrono::hours(24 * 365 * 100);
    if (timeout >= century)
    {
        return now + century;
    }
    return now + std::chrono::ceil<std::chrono::steady_clock::duration>(timeout);
}

/// Hands an exception thrown by a done-callback to the process-wide handler (stderr unless
/// set_callback_error_handler replaced it).
void report_callback_error(std::exception_ptr error) noexcept;

class future_state_base : public std::enable_shared_from_this<future_state_base>
{
  public:
    using callback = std::function<void(future_state_base&)>;
    using deadline = std::optional<std::chrono::steady_clock::time_point>;

    future_state_base() = default;
    future_state_base(const future_state_base&) = delete;
    future_state_base& operator=(const future_state_base&) = delete;
    virtual ~future_state_base() = default;

    [[nodiscard]] future_status status() const noexcept
    {
        return static_cast<future_status>(m_word.load(std::memory_order_acquire) & status_mask);
    }
    [[nodiscard]] bool done() const noexcept { return status() >= future_status::cancelled; }

    /// Python's cancel(): true when pending (now cancelled) or already cancelled.
    bool cancel();

    /// Python's set_running_or_notify_cancel(): pending -> running and true; cancelled -> false;
    /// anything else throws invalid_state_error.
    bool set_running_or_notify_cancel();

    void set_exception(std::exception_ptr error)
    {
        finish([&] { m_error = std::move(error); });
    }

    /// Blocks until done or `until` passes; true when done.
    bool wait(deadline until) const noexcept;

    /// Registers `fn`, run once when the state becomes done; returns its id. Returns 0, without
    /// keeping `fn`, when the state is already done: the caller runs it itself.
    std::uint64_t add_callback(callback fn);
    /// Forgets a callback that has not run yet (no-op once it ran or started).
    void remove_callback(std::uint64_t id) noexcept;

    /// The stored exception of a finished state (null for a value). Valid once done().
    [[nodiscard]] const std::exception_ptr& error() const noexcept { return m_error; }

  protected:
    /// Runs `store` (which writes the value or the error) and marks the state finished; throws
    /// invalid_state_error when it is already done, as Python's set_result does.
    template <class Store>
    void finish(Store&& store)
    {
        std::vector<std::pair<std::uint64_t, callback>> callbacks;
        {
            std::lock_guard lock(m_mutex);
            if (done())
            {
                throw invalid_state_error(status() == future_status::cancelled
                                              ? "weft: result set on a cancelled future"
                                              : "weft: result set twice on a future");
            }
            std::forward<Store>(store)();
            publish(future_status::finished);
            callbacks.swap(m_callbacks);
        }
        run_callbacks(callbacks);
    }

    /// How a producer that can make progress on the waiting thread takes part in wait(): it
    /// waits until done or `until` passes and returns true, or returns false and wait()
    /// blocks as usual. The process pool overrides it (its waiters collect results
    /// themselves); the default, for everything else, costs one call on wait()'s slow path.
    virtual bool help_wait(deadline until) const noexcept;

    /// wait() without help_wait: spin, then sleep on the state's own futex.
    bool block(deadline until) const noexcept;

  private:
    static constexpr std::uint32_t status_mask = 3;
    static constexpr std::uint32_t sleepers_bit = 4; // a thread sleeps on m_word in wait()

    // With m_mutex held: the final store, then the futex wake if a thread sleeps.
    void publish(future_status final_status) noexcept;
    void run_callbacks(std::vector<std::pair<std::uint64_t, callback>>& callbacks) noexcept;

    mutable std::atomic<std::uint32_t> m_word{0};
    std::mutex m_mutex; // guards transitions and m_callbacks
    std::vector<std::pair<std::uint64_t, callback>> m_callbacks;
    std::uint64_t m_next_callback_id = 1;
    std::exception_ptr m_error;
};

template <class T>
class future_state : public future_state_base
{
  public:
    template <class... Args>
    void set_value(Args&&... args)
    {
        finish([&] { m_value.emplace(std::forward<Args>(args)...); });
    }
    /// The value of a state finished without an exception.
    [[nodiscard]] T& value() noexcept { return *m_value; }

  private:
    std::optional<T> m_value;
};

template <>
class future_state<void> : public future_state_base
{
  public:
    void set_value()
    {
        finish([] {});
    }
};

} // namespace weft::detail
