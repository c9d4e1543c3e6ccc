#pragma once
// How long the process pool's tasks take, per function, and so how many of a task to write
// ahead into one worker's ring.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace weft::detail
{

/// A moving average of the run time of each function's calls (by timing key: what a task
/// runs, its trampoline and target, as begin_pool_task names it), as the workers timed them.
/// Kept per call, not per task: a map's chunk of n calls takes n times one call, so that chunks
/// of one size do not mislead the dispatch of another.
class task_timings
{
  public:
    /// Tasks with `key`, making `calls` calls each, to keep in one worker's ring at once: one
    /// until they were timed, many once they are seen to be short, one when they are long.
    [[nodiscard]] std::size_t ahead(std::uint64_t key, std::uint32_t calls) const noexcept;
    /// Adds the time of a task that made `calls` calls. Never throws: a timing that cannot be
    /// kept is only advice lost.
    void record(std::uint64_t key, std::chrono::nanoseconds took, std::uint32_t calls) noexcept;

  private:
    // Nanoseconds per call, fractional: a chunk of cheap calls times each at well under one.
    std::unordered_map<std::uint64_t, double> m_average;
};

} // namespace weft::detail
