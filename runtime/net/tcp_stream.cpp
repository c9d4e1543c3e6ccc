#include "runtime/net/tcp_stream.hpp"

#include <stdexcept>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "runtime/net/detail/socket_ops.hpp"
#include "runtime/uring/connect_operation.hpp"

namespace weft
{

task<tcp_stream> tcp_stream::connect(socket_address address)
{
    if (!address.is_ipv4() && !address.is_ipv6())
    {
        throw std::invalid_argument("weft: tcp_stream::connect: not an IP address: \"" +
                                    address.to_string() + "\"");
    }
    tcp_stream stream(detail::open_socket(address.family(), SOCK_STREAM));
    co_await uring::connect_operation(stream.native_handle(), address.native(),
                                      address.native_size());
    co_return stream;
}

void tcp_stream::set_nodelay(bool enabled)
{
    detail::set_int_option(native_handle(), IPPROTO_TCP, TCP_NODELAY, enabled ? 1 : 0,
                           "TCP_NODELAY");
}

} // namespace weft
