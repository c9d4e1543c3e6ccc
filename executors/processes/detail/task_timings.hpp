#pragma once
// How long the process pool's tasks take, per function, and so how many of a task to write
// ahead into one worker's ring.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>

namespace weft::detail
{

/// Names what a task message runs (its trampoline and target, not its arguments): tasks of
/// one kind are timed together. 0 for a message too short to name one.
[[nodiscard]] std::uint64_t task_kind(std::string_view message) noexcept;

/// A moving average of the run time of each kind of task, as its workers timed it.
class task_timings
{
  public:
    /// Tasks of `kind` to keep in one worker's ring at once: one until the kind was timed,
    /// many once its tasks are seen to be short, one when they are long.
    [[nodiscard]] std::size_t ahead(std::uint64_t kind) const noexcept;
    void record(std::uint64_t kind, std::chrono::nanoseconds took);

  private:
    std::unordered_map<std::uint64_t, std::chrono::nanoseconds> m_average;
};

} // namespace weft::detail
