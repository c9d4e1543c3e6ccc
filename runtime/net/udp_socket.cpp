#include "runtime/net/udp_socket.hpp"

#include <stdexcept>

#include <sys/socket.h>

#include "runtime/net/detail/socket_ops.hpp"

namespace weft
{
namespace
{

udp_socket::datagram to_datagram(uring::recvmsg_operation::result received)
{
    return {
        .size = received.size,
        .source = socket_address::from_native(received.source, received.source_size),
        .truncated = received.truncated,
    };
}

} // namespace

udp_socket udp_socket::bind(const socket_address& address)
{
    if (!address.is_ipv4() && !address.is_ipv6())
    {
        throw std::invalid_argument("weft: udp_socket::bind: not an IP address: \"" +
                                    address.to_string() + "\"");
    }
    uring::owned_fd fd = detail::open_socket(address.family(), SOCK_DGRAM);
    detail::bind_to(fd.get(), address);
    return udp_socket(std::move(fd));
}

udp_socket udp_socket::bind(std::string_view host, std::uint16_t port)
{
    return bind(socket_address::parse(host, port));
}

uring::converted_operation<uring::recvmsg_operation, udp_socket::datagram>
udp_socket::recv_from(std::span<std::byte> buffer) const
{
    return {uring::recvmsg_operation(m_fd.get(), buffer), &to_datagram};
}

socket_address udp_socket::local_address() const
{
    return detail::local_address_of(m_fd.get());
}

} // namespace weft
