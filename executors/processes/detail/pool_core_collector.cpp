// The collector thread: completes the futures nobody waits on (callbacks, as_completed,
// co_await), keeps the rings fed, sends the stop messages at shutdown, and replaces workers
// that died.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <poll.h>
#include <signal.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <sys/syscall.h>

#include "executors/detail/futex.hpp"
#include "executors/processes/detail/launcher_thread.hpp"
#include "executors/processes/detail/pool_core.hpp"
#include "executors/processes/detail/shm_channel.hpp"
#include "executors/processes/detail/throw_sites.hpp"
#include "executors/processes/worker_died_error.hpp"

namespace weft::detail
{
namespace
{

// The collector spins this long after the last result before it sleeps in poll(): a result
// that follows within it costs no wake-up (FLOORS.md: ~50 µs each here). Never on one CPU.
const std::chrono::nanoseconds g_collector_spin = std::thread::hardware_concurrency() > 1
                                                      ? std::chrono::microseconds(50)
                                                      : std::chrono::nanoseconds(0);

// The error a call fails with when its worker died: ", a call of NAME" names a function the
// executable names; a lambda is not named (its trampoline's name would say only that).
std::exception_ptr died_error(const worker_death& death) noexcept
{
    try
    {
        std::string what = death.what;
        if (death.function != 0)
        {
            const std::string name = name_of_function(death.function);
            if (!name.empty())
            {
                what += ", a call of " + name;
            }
        }
        what += death.items;
        return std::make_exception_ptr(
            worker_died_error(what, death.pid, death.exitcode, death.task));
    }
    catch (...)
    {
        return std::current_exception(); // out of memory: the call fails with that
    }
}

} // namespace

void pool_core::finish(std::vector<pool_completion>& done) noexcept
{
    for (pool_completion& c : done)
    {
        if (c.death)
        {
            c.call->fail(died_error(*c.death));
        }
        else if (c.error)
        {
            c.call->fail(c.error);
        }
        else
        {
            c.call->complete(c.kind, c.outcome());
        }
    }
    done.clear();
}

void pool_core::collect()
{
    std::vector<pool_completion> done;
    std::vector<pollfd> polled;
    auto last_progress = std::chrono::steady_clock::now();
    for (;;)
    {
        bool progress = false;
        bool finished = false;
        {
            std::lock_guard lock(m_mutex);
            for (auto& w : m_workers)
            {
                // A registered waiter takes this channel's results (pool_core_waiters.cpp).
                if (w->channel.header().waiters.load(std::memory_order_relaxed) == 0)
                {
                    progress = receive(*w, done) || progress;
                }
                progress = pump(*w) || progress;
            }
            dispatch();
            if (m_shutdown && m_pending.empty() && !any_assigned())
            {
                for (auto& w : m_workers)
                {
                    if (!w->stop_sent)
                    {
                        send_stop(*w);
                    }
                }
                finished = m_workers.empty();
            }
            progress = take_refused(done) || progress;
        }
        finish(done);
        if (finished)
        {
            std::lock_guard lock(m_finished_mutex);
            m_finished = true;
            m_finished_changed.notify_all();
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        if (progress)
        {
            last_progress = now;
            continue;
        }
        // Spinning also right after the last outcome, with nothing out: a future nobody blocks
        // on (a callback, co_await) that is submitted again at once is answered without waking
        // this thread through the eventfd. Not while a thread waits in result(): it collects
        // itself, and on two CPUs a third spinner would take its CPU or the worker's.
        if (now - last_progress < g_collector_spin &&
            m_helpers.load(std::memory_order_relaxed) == 0 &&
            m_maps.load(std::memory_order_relaxed) == 0)
        {
            cpu_relax();
            continue;
        }
        sleep(polled, done);
        last_progress = std::chrono::steady_clock::now();
    }
}

void pool_core::sleep(std::vector<pollfd>& polled, std::vector<pool_completion>& done)
{
    polled.clear();
    polled.push_back(pollfd{m_bell.get(), POLLIN, 0});
    bool shutting_down = false;
    {
        std::lock_guard lock(m_mutex);
        shutting_down = m_shutdown;
        bool ready = false;
        for (auto& w : m_workers)
        {
            shm_channel_header& header = w->channel.header();
            header.pool_sleeping.store(1, std::memory_order_seq_cst);
            // Checked after the flag: a result published before the worker could see the flag
            // is found here instead, unless a registered waiter takes it: it drains the channel
            // after it unregisters (m_mutex held here, so it has not yet).
            bool can_write = w->channel.writable(header.tasks) > 0;
            if (w->held == announce_outcome::full)
            {
                can_write = false;
                polled.push_back(pollfd{w->socket.get(), POLLOUT, 0});
            }
            else if (w->held == announce_outcome::not_idle)
            {
                can_write = w->written == 0; // idle now: the next pump sends it
            }
            else if (w->held == announce_outcome::worker_gone)
            {
                can_write = false; // its pidfd wakes this thread to bury it
            }
            ready = ready ||
                    (shm_channel::readable(header.results) > 0 &&
                     header.waiters.load(std::memory_order_seq_cst) == 0) ||
                    (w->written < w->assigned.size() && can_write && !w->stop_sent);
            polled.push_back(pollfd{w->child.pidfd.get(), POLLIN, 0});
        }
        ready = ready || !m_refused.empty() ||
                (m_shutdown && m_pending.empty() && !any_assigned() &&
                 std::any_of(m_workers.begin(), m_workers.end(),
                             [](const auto& w) { return !w->stop_sent; }));
        if (ready)
        {
            return;
        }
    }
    // A worker told to stop that does not exit within this bound is killed, so that shutdown
    // always returns.
    const int timeout_ms = shutting_down ? 5000 : -1;
    const int n = ::poll(polled.data(), polled.size(), timeout_ms);
    std::uint64_t count = 0;
    (void)!::read(m_bell.get(), &count, sizeof count);
    {
        // Awake again: workers need not ring until the next sleep.
        std::lock_guard lock(m_mutex);
        for (auto& w : m_workers)
        {
            w->channel.header().pool_sleeping.store(0, std::memory_order_relaxed);
        }
    }
    if (n == 0 && shutting_down)
    {
        std::lock_guard lock(m_mutex);
        for (auto& w : m_workers)
        {
            if (w->stop_sent)
            {
                ::syscall(SYS_pidfd_send_signal, w->child.pidfd.get(), SIGKILL, nullptr, 0);
            }
        }
        return;
    }
    int replacements = 0;
    {
        std::lock_guard lock(m_mutex);
        for (std::size_t i = 1; i < polled.size(); ++i)
        {
            if ((polled[i].revents & (POLLIN | POLLHUP)) == 0)
            {
                continue;
            }
            for (std::size_t k = 0; k < m_workers.size(); ++k)
            {
                if (m_workers[k]->child.pidfd.get() == polled[i].fd)
                {
                    replacements += bury(k, done) ? 1 : 0;
                    break;
                }
            }
        }
        m_starting += replacements;
    }
    // The outcomes (the dead worker's failed call among them) are delivered once the
    // replacement is in: whoever sees that failure finds the pool at its size again. Outside
    // the lock: starting a process takes milliseconds and submit() must not wait.
    for (int i = 0; i < replacements; ++i)
    {
        try
        {
            // The replacement starts with the signal mask of the thread that made the pool,
            // not this thread's, which blocks asynchronous signals.
            const child_signal_mask_scope as_the_pools_maker(m_child_mask);
            auto slot = start_worker();
            std::lock_guard lock(m_mutex);
            m_workers.push_back(std::move(slot));
            --m_starting;
            dispatch();
            (void)take_refused(done);
        }
        catch (const std::exception& e)
        {
            std::lock_guard lock(m_mutex);
            --m_starting;
            if (m_workers.empty())
            {
                break_pool(std::string("no worker could be started: ") + e.what());
                fail_everything(done);
            }
        }
    }
    finish(done);
}

} // namespace weft::detail
