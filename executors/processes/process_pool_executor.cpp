// process_pool_executor's own methods: checking options and forwarding to the pool's core
// (detail/pool_core.hpp), which the futures of its calls share.
#include "executors/processes/process_pool_executor.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "executors/processes/detail/launch.hpp"
#include "executors/processes/detail/pool_core.hpp"

namespace weft
{

process_pool_executor::process_pool_executor(options opts)
{
    if (opts.max_workers < 0)
    {
        throw std::invalid_argument("weft: max_workers must be greater than 0");
    }
    if (opts.max_tasks_per_child < 0)
    {
        throw std::invalid_argument("weft: max_tasks_per_child must be >= 1");
    }
    if (opts.max_retries < 0)
    {
        throw std::invalid_argument("weft: max_retries must be >= 0");
    }
    if (opts.restart_limit.deaths < 0 || opts.restart_limit.within.count() <= 0)
    {
        throw std::invalid_argument("weft: restart_limit needs deaths >= 0 and a positive window");
    }
    if (opts.start_method.value_or(get_start_method()) == start_method::fork)
    {
        // Before the pool's own threads start: those hold nothing a worker needs.
        detail::warn_if_threaded_fork();
    }
    m_core = std::make_shared<detail::pool_core>(opts);
}

// Futures keep the pool's core alive (pool_call_base::pool), so its destructor may run much
// later: shutting down is this destructor's job.
process_pool_executor::~process_pool_executor()
{
    m_core->shutdown(true, false);
}

void process_pool_executor::shutdown(bool wait, bool cancel_futures)
{
    m_core->shutdown(wait, cancel_futures);
}

int process_pool_executor::max_workers() const noexcept
{
    return m_core->max_workers();
}

std::vector<pid_t> process_pool_executor::worker_pids() const
{
    return m_core->worker_pids();
}

void process_pool_executor::shutdown_within(std::chrono::nanoseconds grace)
{
    m_core->shutdown_within(grace);
}

void process_pool_executor::terminate()
{
    m_core->terminate();
}

detail::map_window process_pool_executor::default_window(const map_options& opts) const
{
    if (opts.window != 0)
    {
        return {.chunks = opts.window};
    }
    // Two chunks per worker keep it busy when a chunk takes longer than a round trip (~100 µs
    // here). Small chunks need more in flight to hide it: the map refills half a window at a
    // time, and the half still in flight must outlast a sleeping worker's wake-up (50-100 µs on
    // the 2-core VM, where 4,096 trivial calls per worker left idle gaps; 32,768 did not). So:
    // up to 32,768 calls and 4,096 chunks per worker, as long as the messages stay under 4 MiB
    // per worker, so memory stays bounded either way.
    const auto workers = static_cast<std::size_t>(m_core->max_workers());
    return {.min_chunks = 2 * workers,
            .max_chunks = 4096 * workers,
            .items = 32768 * workers,
            .bytes = (4U << 20) * workers};
}

detail::pool_map_presence process_pool_executor::map_presence() const noexcept
{
    return detail::pool_map_presence(m_core);
}

std::uint64_t process_pool_executor::next_task_id() noexcept
{
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

void process_pool_executor::enqueue(std::shared_ptr<detail::pool_call_base> call)
{
    call->pool = m_core;
    m_core->enqueue(std::move(call));
}

void process_pool_executor::enqueue(std::vector<std::shared_ptr<detail::pool_call_base>>& calls)
{
    enqueue_on(m_core, calls);
}

void process_pool_executor::enqueue_on(const std::shared_ptr<detail::pool_core>& core,
                                       std::vector<std::shared_ptr<detail::pool_call_base>>& calls)
{
    for (auto& call : calls)
    {
        call->pool = core;
    }
    core->enqueue(calls);
}

} // namespace weft
