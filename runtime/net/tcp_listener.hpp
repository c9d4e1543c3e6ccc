#pragma once

#include <cstdint>
#include <string_view>

#include <sys/socket.h>

#include "runtime/net/socket_address.hpp"
#include "runtime/net/tcp_stream.hpp"
#include "runtime/task.hpp"
#include "runtime/uring/accept_operation.hpp"
#include "runtime/uring/converted_operation.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft
{

/// A listening TCP socket. bind() binds and listens at once; `co_await accept()` yields each
/// connection as a tcp_stream. Move-only; destroying an open listener closes it.
class tcp_listener
{
  public:
    struct options
    {
        /// listen(2) backlog; the kernel caps it at net.core.somaxconn.
        int backlog = SOMAXCONN;
        /// SO_REUSEADDR: rebinding a port whose old connections sit in TIME_WAIT succeeds.
        bool reuse_address = true;
        /// SO_REUSEPORT: several listeners (one per loop) share the port; the kernel spreads
        /// connections among them.
        bool reuse_port = false;
    };

    /// A listener that listens nowhere (is_open() false).
    tcp_listener() noexcept = default;

    /// Binds to the IPv4 or IPv6 `address` (port 0 picks a free port: read it back with
    /// local_address()) and listens. Throws std::system_error (EADDRINUSE, EACCES, ...) and
    /// std::invalid_argument for a non-IP address.
    [[nodiscard]] static tcp_listener bind(const socket_address& address);
    [[nodiscard]] static tcp_listener bind(const socket_address& address, const options& opts);
    /// Same, with a numeric `host` as socket_address::parse accepts.
    [[nodiscard]] static tcp_listener bind(std::string_view host, std::uint16_t port);

    /// `co_await accept()` waits for the next connection and yields it. Throws std::system_error
    /// (EMFILE when out of descriptors, ...) and operation_cancelled when the task is stopped
    /// first; a cancelled accept takes no connection from the queue.
    [[nodiscard]] uring::converted_operation<uring::accept_operation, tcp_stream> accept() const;

    /// The bound address, with the port the kernel chose for port 0. Throws std::system_error.
    [[nodiscard]] socket_address local_address() const;

    /// Closes through the ring; see uring::owned_fd::close.
    [[nodiscard]] uring::close_awaitable close() noexcept { return m_fd.close(); }

    [[nodiscard]] int native_handle() const noexcept { return m_fd.get(); }
    [[nodiscard]] bool is_open() const noexcept { return m_fd.valid(); }

  private:
    explicit tcp_listener(uring::owned_fd fd) noexcept : m_fd(std::move(fd)) {}

    uring::owned_fd m_fd;
};

} // namespace weft
