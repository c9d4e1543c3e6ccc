#pragma once
// How long the process pool's tasks take, per function, and so how many of a task to write
// ahead into one worker's ring.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace weft::detail
{

/// A moving average of the run time of each function's tasks (by timing key: what a task
/// runs, its trampoline and target, as begin_pool_task names it), as the workers timed them.
class task_timings
{
  public:
    /// Tasks with `key` to keep in one worker's ring at once: one until they were timed, many
    /// once they are seen to be short, one when they are long.
    [[nodiscard]] std::size_t ahead(std::uint64_t key) const noexcept;
    /// Adds a run's time. Never throws: a timing that cannot be kept is only advice lost.
    void record(std::uint64_t key, std::chrono::nanoseconds took) noexcept;

  private:
    std::unordered_map<std::uint64_t, std::chrono::nanoseconds> m_average;
};

} // namespace weft::detail
