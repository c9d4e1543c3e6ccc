#include "executors/process_cpu_count.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdint>
#include <fstream>
#include <sched.h>
#include <string>
#include <thread>

namespace weft
{
namespace detail
{

std::optional<int> cpus_of_quota(std::string_view cpu_max) noexcept
{
    const auto space = cpu_max.find(' ');
    if (space == std::string_view::npos || cpu_max.substr(0, space) == "max")
    {
        return std::nullopt;
    }
    std::int64_t quota = 0;
    std::int64_t period = 0;
    const char* quota_end = cpu_max.data() + space;
    if (std::from_chars(cpu_max.data(), quota_end, quota).ptr != quota_end)
    {
        return std::nullopt;
    }
    const std::string_view rest = cpu_max.substr(space + 1);
    if (std::from_chars(rest.data(), rest.data() + rest.size(), period).ec != std::errc{} ||
        quota <= 0 || period <= 0)
    {
        return std::nullopt;
    }
    return static_cast<int>(std::min<std::int64_t>((quota + period - 1) / period, INT_MAX));
}

} // namespace detail

namespace
{

int cpus_in_affinity_mask() noexcept
{
    // Sized for machines with more CPUs than a plain cpu_set_t holds (1024).
    constexpr int most = 8192;
    cpu_set_t* set = CPU_ALLOC(most);
    if (set == nullptr)
    {
        return 0;
    }
    const std::size_t size = CPU_ALLOC_SIZE(most);
    const int count = ::sched_getaffinity(0, size, set) == 0 ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    return count;
}

// The smallest quota on this process's cgroup and its ancestors (cgroup v2 only: the "0::"
// line of /proc/self/cgroup), or nothing.
std::optional<int> cpus_of_cgroup_quota()
{
    std::ifstream cgroups("/proc/self/cgroup");
    std::string line;
    std::string path;
    while (std::getline(cgroups, line))
    {
        if (line.rfind("0::", 0) == 0)
        {
            path = line.substr(3);
        }
    }
    if (path.empty() || path.front() != '/')
    {
        return std::nullopt;
    }
    std::optional<int> lowest;
    for (;;)
    {
        std::ifstream cpu_max("/sys/fs/cgroup" + path + (path == "/" ? "" : "/") + "cpu.max");
        std::string quota;
        if (std::getline(cpu_max, quota))
        {
            if (const auto cpus = detail::cpus_of_quota(quota);
                cpus && (!lowest || *cpus < *lowest))
            {
                lowest = cpus;
            }
        }
        if (path == "/")
        {
            return lowest;
        }
        const auto slash = path.rfind('/');
        path = slash == 0 ? "/" : path.substr(0, slash);
    }
}

} // namespace

int process_cpu_count() noexcept
{
    int cpus = cpus_in_affinity_mask();
    if (cpus <= 0)
    {
        cpus = static_cast<int>(std::thread::hardware_concurrency());
    }
    try
    {
        if (const auto quota = cpus_of_cgroup_quota(); quota && *quota < cpus)
        {
            cpus = *quota;
        }
    }
    catch (...)
    {
        // Out of memory reading /proc or /sys: the affinity mask alone.
    }
    return std::max(cpus, 1);
}

} // namespace weft
