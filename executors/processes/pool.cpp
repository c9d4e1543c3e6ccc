#include "executors/processes/pool.hpp"

#include <stdexcept>

namespace weft
{

namespace
{
process_pool_executor::options with_processes(int processes)
{
    if (processes < 1)
    {
        throw std::invalid_argument("weft: the number of processes must be at least 1");
    }
    return {.max_workers = processes};
}
} // namespace

pool::pool(int processes) : m_executor(with_processes(processes)) {}

pool::~pool()
{
    try
    {
        close();
        join();
    }
    catch (...)
    {
        // join() after terminate() or close() cannot fail: nothing to report.
    }
}

void pool::require_running() const
{
    if (m_state.load(std::memory_order_acquire) != state::running)
    {
        throw invalid_state_error("weft: pool not running (closed or terminated)");
    }
}

void pool::close()
{
    state expected = state::running;
    if (m_state.compare_exchange_strong(expected, state::closed))
    {
        m_executor.shutdown(false);
    }
}

void pool::terminate()
{
    if (m_state.exchange(state::terminated) != state::terminated)
    {
        m_executor.terminate();
    }
}

void pool::shutdown_within(std::chrono::nanoseconds grace)
{
    state expected = state::running;
    m_state.compare_exchange_strong(expected, state::closed);
    std::lock_guard lock(m_join_mutex);
    m_executor.shutdown_within(grace);
}

void pool::join()
{
    if (m_state.load(std::memory_order_acquire) == state::running)
    {
        throw invalid_state_error("weft: join() needs close() or terminate() first");
    }
    std::lock_guard lock(m_join_mutex);
    m_executor.shutdown(true);
}

} // namespace weft
