#include "executors/processes/detail/task_timings.hpp"

#include <algorithm>

namespace weft::detail
{

namespace
{

// Many tasks ahead keep a worker of short tasks busy while the collector sleeps or refills
// it; few keep long tasks from queueing behind one worker while another idles (a task in a
// ring is not taken back unless its worker dies). Timed per function, not pool-wide: on 16 cores a
// prime count split in 256 chunks, submitted after a warm-up of trivial tasks, went out 16 to
// a worker on the warm-up's timing and ran 11.6-13.4x serial where threads ran 14.1x.
constexpr std::size_t g_ahead_unknown = 1;
constexpr std::size_t g_ahead_long = 1;
constexpr std::size_t g_ahead_medium = 2;
constexpr std::size_t g_ahead_short = 64;
constexpr std::chrono::nanoseconds g_short_task = std::chrono::microseconds(100);
constexpr std::chrono::nanoseconds g_long_task = std::chrono::milliseconds(2);

// Keys are a program's functions, a few: a program that makes more (a pool fed from plugins
// loaded and unloaded without end) starts its timings over rather than growing them.
constexpr std::size_t g_most_keys = 4096;

} // namespace

std::size_t task_timings::ahead(std::uint64_t key, std::uint32_t calls) const noexcept
{
    const auto found = m_average.find(key);
    if (found == m_average.end())
    {
        return g_ahead_unknown;
    }
    const std::chrono::duration<double, std::nano> task(found->second * calls);
    if (task < g_short_task)
    {
        return g_ahead_short;
    }
    return task < g_long_task ? g_ahead_medium : g_ahead_long;
}

void task_timings::record(std::uint64_t key, std::chrono::nanoseconds took,
                          std::uint32_t calls) noexcept
{
    const double each = static_cast<double>(took.count()) / std::max<std::uint32_t>(calls, 1);
    try
    {
        if (m_average.size() >= g_most_keys && !m_average.contains(key))
        {
            m_average.clear();
        }
        const auto [at, fresh] = m_average.try_emplace(key, each);
        if (!fresh)
        {
            at->second = (4 * at->second + each) / 5;
        }
    }
    catch (...)
    {
        // No memory for a new entry: that function stays untimed (one task ahead).
    }
}

} // namespace weft::detail
