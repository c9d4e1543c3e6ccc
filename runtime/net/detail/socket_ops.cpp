#include "runtime/net/detail/socket_ops.hpp"

#include <cerrno>
#include <string>

#include <sys/socket.h>
#include <system_error>

namespace weft::detail
{
namespace
{

[[noreturn]] void throw_errno(const std::string& what)
{
    throw std::system_error(errno, std::system_category(), what);
}

} // namespace

uring::owned_fd open_socket(int family, int type)
{
    const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
    {
        throw_errno("socket");
    }
    return uring::owned_fd(fd);
}

void set_int_option(int fd, int level, int name, int value, const char* what)
{
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0)
    {
        throw_errno(std::string("setsockopt ") + what);
    }
}

void bind_to(int fd, const socket_address& address)
{
    if (::bind(fd, address.native(), address.native_size()) != 0)
    {
        throw_errno("bind " + address.to_string());
    }
}

void start_listening(int fd, int backlog)
{
    if (::listen(fd, backlog) != 0)
    {
        throw_errno("listen");
    }
}

socket_address local_address_of(int fd)
{
    sockaddr_storage storage{};
    socklen_t size = sizeof storage;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &size) != 0)
    {
        throw_errno("getsockname");
    }
    return socket_address::from_native(storage, size);
}

socket_address peer_address_of(int fd)
{
    sockaddr_storage storage{};
    socklen_t size = sizeof storage;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &size) != 0)
    {
        throw_errno("getpeername");
    }
    return socket_address::from_native(storage, size);
}

} // namespace weft::detail
