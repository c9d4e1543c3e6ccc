#pragma once
// How a process pool's map yields its values: executor.map's way or multiprocessing's.

namespace weft::detail
{

/// Which order a chunked map yields its values in.
enum class map_order
{
    inputs,     ///< map, imap: the order of the inputs
    completion, ///< imap_unordered: chunk by chunk as they finish, in order within a chunk
};

/// How a chunked map yields its values, and what a failed chunk does to it.
struct map_style
{
    // Implicit: a map_order alone is the executor's style.
    map_style(map_order how, bool keep_going_after_failure = false) noexcept
        : order(how), keep_going(keep_going_after_failure)
    {
    }
    map_order order;
    /// false (executor.map, as concurrent.futures): a failed chunk rethrows from advancing and
    /// ends the map; what has not started is cancelled. true (pool::imap, as multiprocessing):
    /// a failed chunk is a position of its own, whose dereference rethrows, and advancing goes
    /// on to the next chunk. A timeout or a refused submit ends the map either way.
    bool keep_going;
};

} // namespace weft::detail
