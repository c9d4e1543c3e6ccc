#include "executors/detail/future_state.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "executors/callback_error_handler.hpp"

namespace weft
{
namespace
{
std::mutex g_handler_mutex;
std::function<void(std::exception_ptr)> g_handler; // empty: print to stderr

// A blocked result() spins this long before it sleeps: a cross-CPU futex wake-up costs ~50 µs
// here (FLOORS.md), so a result that comes within that time is far cheaper to catch spinning.
// On one CPU spinning only delays the producer, so it is off.
const std::chrono::nanoseconds g_wait_spin = std::thread::hardware_concurrency() > 1
                                                 ? std::chrono::microseconds(50)
                                                 : std::chrono::nanoseconds(0);
} // namespace

void set_callback_error_handler(std::function<void(std::exception_ptr)> handler)
{
    std::lock_guard lock(g_handler_mutex);
    g_handler = std::move(handler);
}

namespace detail
{

void report_callback_error(std::exception_ptr error) noexcept
{
    std::function<void(std::exception_ptr)> handler;
    {
        std::lock_guard lock(g_handler_mutex);
        handler = g_handler;
    }
    if (handler)
    {
        try
        {
            handler(error);
            return;
        }
        catch (...)
        {
            // A handler that throws falls back to stderr below.
        }
    }
    try
    {
        std::rethrow_exception(error);
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "weft: exception in a future's done callback: %s\n", e.what());
    }
    catch (...)
    {
        std::fprintf(stderr,
                     "weft: exception in a future's done callback (not a std::exception)\n");
    }
}

bool future_state_base::cancel()
{
    std::vector<std::pair<std::uint64_t, callback>> callbacks;
    {
        std::lock_guard lock(m_mutex);
        future_status now = status();
        if (now == future_status::cancelled)
        {
            return true;
        }
        if (now != future_status::pending)
        {
            return false;
        }
        publish(future_status::cancelled);
        callbacks.swap(m_callbacks);
    }
    run_callbacks(callbacks);
    return true;
}

bool future_state_base::set_running_or_notify_cancel()
{
    std::lock_guard lock(m_mutex);
    std::uint32_t word = m_word.load(std::memory_order_relaxed);
    switch (static_cast<future_status>(word & status_mask))
    {
    case future_status::pending:
        // An atomic or, not a store: a thread in wait() may set the sleepers bit at any moment
        // (it does not take m_mutex), and it still needs the final wake-up. Pending is 0.
        m_word.fetch_or(static_cast<std::uint32_t>(future_status::running),
                        std::memory_order_acq_rel);
        return true;
    case future_status::cancelled:
        return false;
    default:
        throw invalid_state_error(
            "weft: future in unexpected state for set_running_or_notify_cancel");
    }
}

void future_state_base::publish(future_status final_status) noexcept
{
    std::uint32_t old =
        m_word.exchange(static_cast<std::uint32_t>(final_status), std::memory_order_acq_rel);
    if ((old & sleepers_bit) != 0)
    {
        futex_wake(m_word);
    }
}

void future_state_base::run_callbacks(
    std::vector<std::pair<std::uint64_t, callback>>& callbacks) noexcept
{
    for (auto& [id, fn] : callbacks)
    {
        try
        {
            fn(*this);
        }
        catch (...)
        {
            report_callback_error(std::current_exception());
        }
    }
}

bool future_state_base::help_wait(deadline /*until*/) const noexcept
{
    return false;
}

bool future_state_base::wait(deadline until) const noexcept
{
    if (done())
    {
        return true;
    }
    if (help_wait(until))
    {
        return done();
    }
    return block(until);
}

bool future_state_base::block(deadline until) const noexcept
{
    auto spin = g_wait_spin;
    if (until)
    {
        auto left = *until - std::chrono::steady_clock::now();
        if (left <= left.zero())
        {
            return done(); // a poll: do not set the sleepers bit for nothing
        }
        spin = std::min(spin, std::chrono::duration_cast<std::chrono::nanoseconds>(left));
    }
    if (spin_for([this] { return done(); }, spin))
    {
        return true;
    }
    for (;;)
    {
        std::uint32_t word = m_word.load(std::memory_order_acquire);
        if ((word & status_mask) >= static_cast<std::uint32_t>(future_status::cancelled))
        {
            return true;
        }
        if ((word & sleepers_bit) == 0)
        {
            if (!m_word.compare_exchange_weak(word, word | sleepers_bit, std::memory_order_acq_rel))
            {
                continue;
            }
            word |= sleepers_bit;
        }
        if (!futex_wait(m_word, word, until))
        {
            return done();
        }
    }
}

std::uint64_t future_state_base::add_callback(callback fn)
{
    std::lock_guard lock(m_mutex);
    if (done())
    {
        return 0;
    }
    std::uint64_t id = m_next_callback_id++;
    m_callbacks.emplace_back(id, std::move(fn));
    return id;
}

void future_state_base::remove_callback(std::uint64_t id) noexcept
{
    std::lock_guard lock(m_mutex);
    std::erase_if(m_callbacks, [id](const auto& entry) { return entry.first == id; });
}

} // namespace detail
} // namespace weft
