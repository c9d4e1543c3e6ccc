#pragma once
// How many CPUs this process may use, which the pools' default sizes follow: Python 3.13's
// os.process_cpu_count() (the affinity mask), lowered further by a cgroup v2 CPU quota, as
// loky's cpu_count() does, so that a pool in a container limited to 2 CPUs of a 64-CPU host
// starts 2 workers, not 64.

#include <optional>
#include <string_view>

namespace weft
{

/// The CPUs in the calling thread's affinity mask (sched_getaffinity; `taskset` sets it), or
/// fewer when a cgroup v2 quota on this process's cgroup or one above it (`cpu.max`) allows
/// less CPU time than that: the quota divided by its period, rounded up. At least 1.
/// std::thread::hardware_concurrency() counts every CPU of the machine instead.
[[nodiscard]] int process_cpu_count() noexcept;

namespace detail
{

/// The CPUs a cgroup v2 `cpu.max` line allows ("150000 100000": 2), or nothing for "max" (no
/// quota) or a line that does not parse.
[[nodiscard]] std::optional<int> cpus_of_quota(std::string_view cpu_max) noexcept;

} // namespace detail

} // namespace weft
