#include "runtime/net/unix_stream.hpp"

#include <cerrno>
#include <stdexcept>

#include <sys/socket.h>
#include <system_error>

#include "runtime/net/detail/socket_ops.hpp"
#include "runtime/uring/connect_operation.hpp"

namespace weft
{

task<unix_stream> unix_stream::connect(socket_address address)
{
    if (!address.is_unix())
    {
        throw std::invalid_argument("weft: unix_stream::connect: not a Unix-domain address: \"" +
                                    address.to_string() + "\"");
    }
    unix_stream stream(detail::open_socket(AF_UNIX, SOCK_STREAM));
    co_await uring::connect_operation(stream.native_handle(), address.native(),
                                      address.native_size());
    co_return stream;
}

std::pair<unix_stream, unix_stream> unix_stream::pair()
{
    int fds[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
    {
        throw std::system_error(errno, std::system_category(), "socketpair");
    }
    return {unix_stream(uring::owned_fd(fds[0])), unix_stream(uring::owned_fd(fds[1]))};
}

} // namespace weft
