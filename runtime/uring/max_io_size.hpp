#pragma once

#include <cstddef>

namespace weft::uring
{

/// The most bytes one read, write, send or recv moves (Linux's MAX_RW_COUNT). Ops shorten longer
/// buffers to this, which callers already handle: every transfer may be short.
inline constexpr std::size_t max_io_size = 0x7ffff000;

} // namespace weft::uring
