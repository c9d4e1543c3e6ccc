#pragma once

#include "runtime/net/detail/stream_socket.hpp"
#include "runtime/net/socket_address.hpp"
#include "runtime/task.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft
{

/// A connected TCP socket: recv, send, send_all, shutdown and close as awaitables (inherited from
/// detail::stream_socket, which documents them). Made by connect() or tcp_listener::accept().
/// Move-only; destroying an open stream closes it with close(2). Use it from the thread of the
/// loop that awaits its operations.
class tcp_stream : public detail::stream_socket
{
  public:
    /// A stream with no connection (is_open() false).
    tcp_stream() noexcept = default;
    /// Adopts a connected TCP socket; it should be non-blocking, as the ring punts I/O on
    /// blocking sockets to worker threads.
    explicit tcp_stream(uring::owned_fd fd) noexcept : stream_socket(std::move(fd)) {}

    /// Connects to an IPv4 or IPv6 `address`. Throws std::system_error (ECONNREFUSED,
    /// ENETUNREACH, ETIMEDOUT, ...), std::invalid_argument for a non-IP address, and
    /// operation_cancelled when the task is stopped first (wrap it in with_timeout to bound it).
    [[nodiscard]] static task<tcp_stream> connect(socket_address address);

    /// Turns Nagle's algorithm off (true) or on (false): with it off, small sends go out at once
    /// instead of waiting to be coalesced. Throws std::system_error.
    void set_nodelay(bool enabled);
};

} // namespace weft
