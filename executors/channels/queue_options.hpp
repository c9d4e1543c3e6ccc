#pragma once

#include <cstddef>

namespace weft
{

/// How a cross-process queue is made.
struct queue_options
{
    /// The most items it holds (Python's maxsize); 0: as many as fit in its buffer.
    std::size_t maxsize = 0;
    /// The shared buffer the serialized items live in while queued. An item larger than this
    /// can never be put (std::length_error); a full buffer blocks put() as maxsize does.
    std::size_t buffer_bytes = std::size_t{1} << 20;
};

} // namespace weft
