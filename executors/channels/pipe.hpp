#pragma once

#include <cerrno>
#include <utility>

#include <sys/socket.h>
#include <system_error>

#include "executors/channels/connection.hpp"

namespace weft
{

/// Python's multiprocessing.Pipe(duplex): two connected ends. Duplex (the default): both ends
/// send and receive. Otherwise the first end only receives and the second only sends, as in
/// Python (`reader, writer = pipe<T>(false)`). A stream socket pair underneath (messages are
/// length-prefixed), so the ends also pass the descriptors of shared memory in a message.
/// Throws std::system_error when the system refuses the sockets.
template <class T>
std::pair<connection<T>, connection<T>> pipe(bool duplex = true)
{
    int pair[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    {
        throw std::system_error(errno, std::system_category(), "weft: pipe: socketpair");
    }
    uring::owned_fd first(pair[0]);
    uring::owned_fd second(pair[1]);
    if (!duplex)
    {
        (void)::shutdown(first.get(), SHUT_WR);
        (void)::shutdown(second.get(), SHUT_RD);
    }
    return {connection<T>(std::move(first), true, duplex),
            connection<T>(std::move(second), duplex, true)};
}

} // namespace weft
