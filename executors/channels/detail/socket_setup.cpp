#include "executors/channels/detail/socket_setup.hpp"

#include <cerrno>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <system_error>

namespace weft::detail
{
namespace
{

[[noreturn]] void fail(const char* what)
{
    throw std::system_error(errno, std::system_category(), what);
}

} // namespace

uring::owned_fd listen_on(const socket_address& where, int backlog)
{
    // Non-blocking: async_accept must never block the loop; accept() polls.
    uring::owned_fd fd(::socket(where.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid())
    {
        fail("weft: listener: socket");
    }
    if (!where.is_unix())
    {
        const int one = 1;
        (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (::bind(fd.get(), where.native(), where.native_size()) != 0)
    {
        fail("weft: listener: bind");
    }
    if (::listen(fd.get(), backlog) != 0)
    {
        fail("weft: listener: listen");
    }
    return fd;
}

socket_address bound_address(int fd)
{
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0)
    {
        fail("weft: listener: getsockname");
    }
    return socket_address::from_native(storage, length);
}

uring::owned_fd connect_to(const socket_address& where)
{
    uring::owned_fd fd(::socket(where.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
    {
        fail("weft: client: socket");
    }
    while (::connect(fd.get(), where.native(), where.native_size()) != 0)
    {
        if (errno != EINTR)
        {
            fail("weft: client: connect");
        }
    }
    if (!where.is_unix())
    {
        const int one = 1;
        (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

} // namespace weft::detail
