#pragma once
// The options every map of an executor takes.

#include <chrono>
#include <cstddef>
#include <optional>

namespace weft
{

struct map_options
{
    /// Counted from the map call; no value: no limit. When it passes, advancing the result range
    /// throws timeout_error.
    std::optional<std::chrono::nanoseconds> timeout = std::nullopt;
    /// Inputs sent to a worker at a time (>= 1). Process pools batch by it; threads ignore it,
    /// as Python's ThreadPoolExecutor does.
    std::size_t chunksize = 1;
    /// Calls (process pools: chunks) submitted ahead of the consumer; 0: the executor's default
    /// (threads: two per worker; processes: at least two chunks per worker, more when chunks
    /// are small). Bounds memory, so an endless input range works.
    std::size_t window = 0;
};

} // namespace weft
