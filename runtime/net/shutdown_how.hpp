#pragma once

#include <sys/socket.h>

namespace weft
{

/// Which direction of a stream connection shutdown() ends (shutdown(2)'s `how`).
enum class shutdown_how
{
    /// No more receiving; data still queued is discarded.
    read = SHUT_RD,
    /// No more sending: the peer's recv returns 0 (end of stream) once it has read the rest.
    write = SHUT_WR,
    /// Both directions.
    both = SHUT_RDWR,
};

} // namespace weft
