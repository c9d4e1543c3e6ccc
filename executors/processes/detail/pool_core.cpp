// The process pool's front: starting it, taking calls, shutting down and terminating.
#include "executors/processes/detail/pool_core.hpp"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <signal.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>

#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <system_error>

#include "executors/errors.hpp"
#include "executors/process_cpu_count.hpp"
#include "executors/processes/pool_terminated_error.hpp"

namespace weft::detail
{

pool_core::pool_core(const process_pool_executor::options& opts)
    : m_max_workers(opts.max_workers > 0 ? opts.max_workers : process_cpu_count()),
      m_method(opts.start_method.value_or(get_start_method())),
      m_max_tasks(static_cast<std::uint32_t>(opts.max_tasks_per_child)),
      m_max_retries(opts.max_retries), m_restart_limit(opts.restart_limit),
      m_bell(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
{
    m_config.max_tasks = m_max_tasks;
    m_config.max_memory = opts.max_memory_per_child;
    m_config.initializer = opts.initializer.message();
    m_initializer_attached = opts.initializer.attached();
    if (!m_bell.valid())
    {
        throw std::system_error(errno, std::system_category(), "weft: eventfd");
    }
    check_can_start(m_method != start_method::fork);
    // Started before the collector thread exists: a forked worker then copies a process
    // with no pool thread in it.
    for (int i = 0; i < m_max_workers; ++i)
    {
        m_workers.push_back(start_worker());
    }
    m_collector = thread_without_signals("weft-collector", [this] { collect(); });
}

std::vector<pid_t> pool_core::worker_pids() const
{
    std::lock_guard lock(m_mutex);
    std::vector<pid_t> pids;
    for (const auto& w : m_workers)
    {
        pids.push_back(w->child.pid);
    }
    return pids;
}

void pool_core::enqueue(std::shared_ptr<pool_call_base> call)
{
    std::lock_guard lock(m_mutex);
    require_accepting();
    m_pending.push_back(std::move(call));
    dispatch();
}

void pool_core::enqueue(std::vector<std::shared_ptr<pool_call_base>>& calls)
{
    std::lock_guard lock(m_mutex);
    require_accepting();
    for (auto& call : calls)
    {
        m_pending.push_back(std::move(call));
    }
    calls.clear();
    dispatch();
}

void pool_core::shutdown(bool wait, bool cancel_futures)
{
    std::deque<std::shared_ptr<pool_call_base>> cancelled;
    {
        std::lock_guard lock(m_mutex);
        m_shutdown = true;
        if (cancel_futures)
        {
            // Calls handed back by a dead worker are running already: they stay.
            for (auto it = m_pending.begin(); it != m_pending.end();)
            {
                if (!(*it)->running)
                {
                    cancelled.push_back(std::move(*it));
                    it = m_pending.erase(it);
                }
                else
                {
                    ++it;
                }
            }
        }
    }
    for (auto& call : cancelled)
    {
        call->cancel(); // outside the lock: cancelling runs the future's callbacks
    }
    ring_pool_bell();
    if (wait)
    {
        if (std::this_thread::get_id() == m_collector.get_id())
        {
            throw invalid_state_error(
                "weft: shutdown(wait=true) from a callback on the pool's own thread");
        }
        std::lock_guard join_lock(m_join_mutex);
        if (m_collector.joinable())
        {
            m_collector.join();
        }
    }
}

void pool_core::shutdown_within(std::chrono::nanoseconds grace)
{
    if (std::this_thread::get_id() == m_collector.get_id())
    {
        throw invalid_state_error("weft: shutdown_within() from a callback on the pool's own "
                                  "thread");
    }
    shutdown(false, true);
    bool finished = false;
    {
        std::unique_lock lock(m_finished_mutex);
        finished = m_finished_changed.wait_for(lock, grace, [this] { return m_finished; });
    }
    if (!finished)
    {
        terminate("weft: the process pool's shutdown grace period ended before this task "
                  "finished");
    }
    shutdown(true, false);
}

void pool_core::terminate(const char* why)
{
    std::vector<std::shared_ptr<pool_call_base>> orphans;
    {
        std::lock_guard lock(m_mutex);
        m_shutdown = true;
        for (auto& call : m_pending)
        {
            orphans.push_back(std::move(call));
        }
        m_pending.clear();
        for (auto& w : m_workers)
        {
            for (auto& call : w->assigned)
            {
                orphans.push_back(std::move(call));
            }
            w->assigned.clear();
            w->written = 0;
            w->partial = 0;
            w->announced = false;
            w->held = announce_outcome::sent;
            w->killed = true;
            w->stop_sent = true; // nothing more is sent to it
            ::syscall(SYS_pidfd_send_signal, w->child.pidfd.get(), SIGKILL, nullptr, 0);
        }
    }
    const auto error = std::make_exception_ptr(pool_terminated_error(why));
    for (auto& call : orphans)
    {
        call->fail(error); // outside the lock: failing runs the future's callbacks
    }
    ring_pool_bell();
}

void pool_core::require_accepting() const
{
    if (m_broken)
    {
        throw broken_executor_error("weft: the process pool is broken: " + m_broken_reason);
    }
    if (m_shutdown)
    {
        throw invalid_state_error("weft: cannot schedule new futures after shutdown");
    }
}

bool pool_core::any_assigned() const
{
    return std::any_of(m_workers.begin(), m_workers.end(),
                       [](const auto& w) { return !w->assigned.empty(); });
}

void pool_core::ring_pool_bell() noexcept
{
    const std::uint64_t one = 1;
    (void)!::write(m_bell.get(), &one, sizeof one);
}

pool_map_presence::pool_map_presence(std::shared_ptr<pool_core> pool) noexcept
    : m_pool(std::move(pool))
{
    m_pool->m_maps.fetch_add(1, std::memory_order_relaxed);
}

pool_map_presence::~pool_map_presence()
{
    if (m_pool != nullptr)
    {
        m_pool->m_maps.fetch_sub(1, std::memory_order_relaxed);
    }
}

bool pool_help_wait(pool_core& pool, const pool_call_base& call, const future_state_base& state,
                    future_state_base::deadline until) noexcept
{
    return pool.help(call, state, until);
}

} // namespace weft::detail
