#pragma once
// Making the stream sockets of listener and client from a socket_address.

#include "runtime/net/socket_address.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

/// A non-blocking socket bound to `where` and listening. Throws std::system_error
/// (EADDRINUSE...).
[[nodiscard]] uring::owned_fd listen_on(const socket_address& where, int backlog);
/// The address a socket is bound to (a TCP port chosen by the system, say).
[[nodiscard]] socket_address bound_address(int fd);
/// A socket connected to `where`. Throws std::system_error (ECONNREFUSED, ENOENT...).
[[nodiscard]] uring::owned_fd connect_to(const socket_address& where);

} // namespace weft::detail
