#pragma once

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <optional>
#include <poll.h>
#include <string>
#include <unistd.h>
#include <utility>

#include <sys/socket.h>
#include <system_error>

#include "executors/channels/connection.hpp"
#include "executors/channels/detail/authentication.hpp"
#include "executors/channels/detail/socket_setup.hpp"
#include "runtime/net/socket_address.hpp"
#include "runtime/task.hpp"
#include "runtime/uring/poll_operation.hpp"

namespace weft
{

/// How a listener is made.
struct listener_options
{
    /// The listen(2) backlog: connections the system holds until they are accepted.
    int backlog = 16;
    /// How long an accepted client has to pass the handshake. A client that is silent, or too
    /// slow, is disconnected and accept() goes on to the next one; none: no limit (Python's
    /// Listener has none, and one silent client then holds a blocking accept() forever).
    std::optional<std::chrono::steady_clock::duration> handshake_limit = std::chrono::seconds(10);
};

/// Python's multiprocessing.connection.Listener: accepts connections on a Unix or TCP socket
/// (socket_address::unix_path("/run/x.sock"), unix_path with a leading '\0' for an abstract
/// name, socket_address::parse("127.0.0.1", 0) for TCP on a port the system picks),
/// each a connection<T>, from clients that prove they hold the same `authkey` (an HMAC-SHA256
/// challenge both ways, before any message is read; nothing is deserialized from a peer that
/// has not passed it, and its messages are capped at 256 bytes until then). An empty key is a
/// key too (Python 3.12's rule): both sides must still agree. Each client has
/// listener_options::handshake_limit (10 s by default) to pass the handshake.
///
/// Not copyable; a Unix socket's file is removed when the listener is destroyed.
template <class T>
class listener
{
  public:
    /// Binds and listens. Throws std::system_error (EADDRINUSE...), std::invalid_argument.
    explicit listener(socket_address where, std::string authkey = {}, int backlog = 16)
        : listener(std::move(where), std::move(authkey), listener_options{.backlog = backlog})
    {
    }
    listener(socket_address where, std::string authkey, listener_options options)
        : m_fd(detail::listen_on(where, options.backlog)),
          m_address(detail::bound_address(m_fd.get())), m_authkey(std::move(authkey)),
          m_handshake_limit(options.handshake_limit)
    {
    }
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;
    ~listener() { close(); }

    /// Waits for a client and authenticates it. Throws authentication_error when it does not
    /// hold the key (its connection is closed), std::system_error. A client that has not passed
    /// the handshake within the listener's handshake_limit is disconnected and the wait goes
    /// on for the next one, rather than throw: a server looping on accept() is not ended (nor
    /// held) by a client that connects and says nothing.
    connection<T> accept()
    {
        for (;;)
        {
            connection<T> accepted(next_client(), true, true);
            try
            {
                accepted.authenticate(true, m_authkey, m_handshake_limit);
                return accepted;
            }
            catch (const detail::handshake_timeout&)
            {
                // authenticate() closed it: the client sees the end of file.
            }
        }
    }

    /// accept() for a coroutine: waits for the client and runs the handshake through the event
    /// loop, so a slow or silent client holds up only this coroutine, and only until the
    /// handshake limit passes (then, as accept(), it goes on to the next client).
    [[nodiscard]] task<connection<T>> async_accept()
    {
        for (;;)
        {
            connection<T> accepted(co_await next_client_async(), true, true);
            try
            {
                co_await accepted.async_authenticate(true, m_authkey, m_handshake_limit);
                co_return accepted;
            }
            catch (const detail::handshake_timeout&)
            {
                // async_authenticate() closed it.
            }
        }
    }

    /// Where it listens (with the port the system chose for port 0).
    [[nodiscard]] const socket_address& address() const noexcept { return m_address; }

    /// Stops listening (and removes a Unix socket's file).
    void close() noexcept
    {
        if (!m_fd.valid())
        {
            return;
        }
        m_fd.reset();
        if (m_address.is_unix())
        {
            const std::string path = m_address.path();
            if (!path.empty() && path[0] != '\0') // an abstract name has no file
            {
                (void)::unlink(path.c_str());
            }
        }
    }

  private:
    uring::owned_fd next_client()
    {
        int fd = -1;
        while ((fd = ::accept4(m_fd.get(), nullptr, nullptr, SOCK_CLOEXEC)) < 0)
        {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
            {
                pollfd ready{m_fd.get(), POLLIN, 0};
                (void)::poll(&ready, 1, -1); // the socket is non-blocking for async_accept
                continue;
            }
            if (errno != EINTR)
            {
                throw std::system_error(errno, std::system_category(), "weft: listener: accept");
            }
        }
        return uring::owned_fd(fd);
    }

    task<uring::owned_fd> next_client_async()
    {
        for (;;)
        {
            const int fd = ::accept4(m_fd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0)
            {
                co_return uring::owned_fd(fd);
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            {
                (void)co_await uring::poll_operation(m_fd.get(), POLLIN);
                continue;
            }
            throw std::system_error(errno, std::system_category(), "weft: listener: accept");
        }
    }

    uring::owned_fd m_fd;
    socket_address m_address;
    std::string m_authkey;
    std::optional<std::chrono::steady_clock::duration> m_handshake_limit;
};

/// client() for a coroutine: the handshake runs through the event loop (the connect itself is
/// a local one, Unix or TCP, and does not wait for the server's code to run).
template <class T>
task<connection<T>>
async_client(socket_address where, std::string authkey = {},
             std::optional<std::chrono::steady_clock::duration> handshake_limit = std::nullopt)
{
    connection<T> connected(detail::connect_to(where), true, true);
    co_await connected.async_authenticate(false, std::move(authkey), handshake_limit);
    co_return connected;
}

/// Python's multiprocessing.connection.Client: connects to a listener and authenticates with
/// `authkey`. Throws authentication_error when the keys differ, std::system_error when nobody
/// listens there. The handshake waits for the server to accept() the connection: by default
/// as long as that takes (as Python's Client); with `handshake_limit`, a server that has not
/// answered by then (busy, or not a weft listener) fails it with authentication_error and the
/// connection is closed.
template <class T>
connection<T>
client(const socket_address& where, std::string_view authkey = {},
       std::optional<std::chrono::steady_clock::duration> handshake_limit = std::nullopt)
{
    connection<T> connected(detail::connect_to(where), true, true);
    connected.authenticate(false, authkey, handshake_limit);
    return connected;
}

} // namespace weft
