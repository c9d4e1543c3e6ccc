#pragma once
// The read-ahead limits of a process pool's map: the executor and the pool choose them, the
// chunked map keeps to them.

#include <cstddef>

namespace weft::detail
{

/// How far a chunked map reads ahead of its consumer. With `chunks` set, exactly that many
/// chunks; otherwise at least `min_chunks`, and more while the chunks in flight are fewer than
/// `max_chunks` and hold fewer than `items` calls and `bytes` of messages: small chunks need
/// many in flight to hide the round trip, large ones must not fill memory.
struct map_window
{
    std::size_t chunks = 0;
    std::size_t min_chunks = 2;
    std::size_t max_chunks = static_cast<std::size_t>(-1);
    std::size_t items = 0;
    std::size_t bytes = 0;
};

} // namespace weft::detail
