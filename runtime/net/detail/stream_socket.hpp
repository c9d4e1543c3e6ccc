#pragma once
// What tcp_stream and unix_stream share: a connected stream socket's I/O. The two public types
// derive from it and add only how a connection is made.

#include <cstddef>
#include <span>
#include <string_view>

#include "runtime/net/shutdown_how.hpp"
#include "runtime/net/socket_address.hpp"
#include "runtime/task.hpp"
#include "runtime/uring/owned_fd.hpp"
#include "runtime/uring/recv_operation.hpp"
#include "runtime/uring/send_operation.hpp"
#include "runtime/uring/shutdown_operation.hpp"

namespace weft::detail
{

class stream_socket
{
  public:
    /// `co_await recv(buffer)` receives up to buffer.size() bytes and yields the count; 0 means
    /// the peer finished sending (end of stream). Throws std::system_error (ECONNRESET, ...) and
    /// operation_cancelled when the task is stopped first; a cancelled recv consumes no data,
    /// so the stream stays usable. `buffer` must outlive the await.
    [[nodiscard]] uring::recv_operation recv(std::span<std::byte> buffer) const noexcept
    {
        return {m_fd.get(), buffer};
    }

    /// `co_await send(data)` sends some of `data` and yields how many bytes were sent (possibly
    /// fewer than data.size(): see send_all). A vanished peer throws std::system_error (EPIPE,
    /// ECONNRESET), never SIGPIPE; operation_cancelled when the task is stopped first.
    [[nodiscard]] uring::send_operation send(std::span<const std::byte> data) const noexcept
    {
        return {m_fd.get(), data};
    }
    [[nodiscard]] uring::send_operation send(std::string_view text) const noexcept
    {
        return send(std::as_bytes(std::span(text)));
    }

    /// Sends all of `data`, looping over short sends. Throws as send(); after an exception an
    /// unknown prefix of `data` has been sent.
    [[nodiscard]] task<void> send_all(std::span<const std::byte> data) const;
    [[nodiscard]] task<void> send_all(std::string_view text) const
    {
        return send_all(std::as_bytes(std::span(text)));
    }

    /// `co_await shutdown(how)` ends one or both directions while the descriptor stays open;
    /// shutdown(shutdown_how::write) makes the peer's recv return 0. Throws std::system_error
    /// (ENOTCONN, ...).
    [[nodiscard]] uring::shutdown_operation shutdown(shutdown_how how) const noexcept
    {
        return {m_fd.get(), static_cast<int>(how)};
    }

    /// Closes the socket through the ring; see uring::owned_fd::close. The object is closed
    /// (is_open() false) from the moment of the call.
    [[nodiscard]] uring::close_awaitable close() noexcept { return m_fd.close(); }

    /// The addresses of this end and of the peer (getsockname/getpeername). Throw
    /// std::system_error, ENOTCONN for peer_address() after the peer is gone.
    [[nodiscard]] socket_address local_address() const;
    [[nodiscard]] socket_address peer_address() const;

    /// The descriptor, for socket options weft does not wrap; -1 when closed.
    [[nodiscard]] int native_handle() const noexcept { return m_fd.get(); }
    [[nodiscard]] bool is_open() const noexcept { return m_fd.valid(); }

  protected:
    stream_socket() noexcept = default;
    explicit stream_socket(uring::owned_fd fd) noexcept : m_fd(std::move(fd)) {}
    stream_socket(stream_socket&&) noexcept = default;
    stream_socket& operator=(stream_socket&&) noexcept = default;
    ~stream_socket() = default;

  private:
    uring::owned_fd m_fd;
};

} // namespace weft::detail
