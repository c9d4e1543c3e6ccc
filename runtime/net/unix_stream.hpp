#pragma once

#include <string_view>
#include <utility>

#include "runtime/net/detail/stream_socket.hpp"
#include "runtime/net/socket_address.hpp"
#include "runtime/task.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft
{

/// A connected Unix-domain stream socket: recv, send, send_all, shutdown and close as awaitables
/// (inherited from detail::stream_socket, which documents them). Made by connect(), pair() or
/// unix_listener::accept(). Move-only; destroying an open stream closes it with close(2).
class unix_stream : public detail::stream_socket
{
  public:
    /// A stream with no connection (is_open() false).
    unix_stream() noexcept = default;
    /// Adopts a connected Unix stream socket; it should be non-blocking.
    explicit unix_stream(uring::owned_fd fd) noexcept : stream_socket(std::move(fd)) {}

    /// Connects to the Unix-domain `address`. Throws std::system_error (ENOENT when nothing is
    /// bound there, ECONNREFUSED when nobody listens), std::invalid_argument for a non-Unix
    /// address, and operation_cancelled when the task is stopped first.
    [[nodiscard]] static task<unix_stream> connect(socket_address address);
    /// Same, for a filesystem path (or an abstract name starting with '\0').
    [[nodiscard]] static task<unix_stream> connect(std::string_view path)
    {
        return connect(socket_address::unix_path(path));
    }

    /// Two streams connected to each other (socketpair(2)). Throws std::system_error.
    [[nodiscard]] static std::pair<unix_stream, unix_stream> pair();
};

} // namespace weft
