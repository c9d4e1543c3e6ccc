#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "runtime/net/socket_address.hpp"
#include "runtime/task.hpp"
#include "runtime/uring/converted_operation.hpp"
#include "runtime/uring/owned_fd.hpp"
#include "runtime/uring/recvmsg_operation.hpp"
#include "runtime/uring/sendmsg_operation.hpp"

namespace weft
{

/// A bound UDP socket: send_to and recv_from as awaitables, one datagram each. Move-only;
/// destroying an open socket closes it.
class udp_socket
{
  public:
    /// What recv_from yields.
    struct datagram
    {
        /// Bytes written into the buffer.
        std::size_t size = 0;
        /// The sender.
        socket_address source;
        /// True when the datagram was longer than the buffer and its tail was discarded.
        bool truncated = false;
    };

    /// A socket bound nowhere (is_open() false).
    udp_socket() noexcept = default;

    /// A socket bound to the IPv4 or IPv6 `address` (port 0 picks a free port: read it back with
    /// local_address()). Throws std::system_error (EADDRINUSE, ...) and std::invalid_argument
    /// for a non-IP address.
    [[nodiscard]] static udp_socket bind(const socket_address& address);
    /// Same, with a numeric `host` as socket_address::parse accepts.
    [[nodiscard]] static udp_socket bind(std::string_view host, std::uint16_t port);

    /// `co_await send_to(data, destination)` sends `data` as one datagram and yields its size.
    /// Throws std::system_error (EMSGSIZE for a datagram too large, ...) and operation_cancelled
    /// when the task is stopped first. `data` must outlive the await; `destination` need not.
    [[nodiscard]] uring::sendmsg_operation send_to(std::span<const std::byte> data,
                                                   const socket_address& destination) const
    {
        return {m_fd.get(), data, destination.native(), destination.native_size()};
    }

    /// `co_await recv_from(buffer)` waits for one datagram and yields its size, sender and
    /// whether it was truncated to fit `buffer`. Throws std::system_error and
    /// operation_cancelled when the task is stopped first. `buffer` must outlive the await.
    [[nodiscard]] uring::converted_operation<uring::recvmsg_operation, datagram>
    recv_from(std::span<std::byte> buffer) const;

    /// The bound address, with the port the kernel chose for port 0. Throws std::system_error.
    [[nodiscard]] socket_address local_address() const;

    /// Closes through the ring; see uring::owned_fd::close.
    [[nodiscard]] uring::close_awaitable close() noexcept { return m_fd.close(); }

    [[nodiscard]] int native_handle() const noexcept { return m_fd.get(); }
    [[nodiscard]] bool is_open() const noexcept { return m_fd.valid(); }

  private:
    explicit udp_socket(uring::owned_fd fd) noexcept : m_fd(std::move(fd)) {}

    uring::owned_fd m_fd;
};

} // namespace weft
