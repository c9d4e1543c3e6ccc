#include "runtime/net/tcp_listener.hpp"

#include <stdexcept>

#include "runtime/net/detail/socket_ops.hpp"

namespace weft
{
namespace
{

tcp_stream adopt_stream(int fd)
{
    return tcp_stream(uring::owned_fd(fd));
}

} // namespace

tcp_listener tcp_listener::bind(const socket_address& address)
{
    return bind(address, options{});
}

tcp_listener tcp_listener::bind(const socket_address& address, const options& opts)
{
    if (!address.is_ipv4() && !address.is_ipv6())
    {
        throw std::invalid_argument("weft: tcp_listener::bind: not an IP address: \"" +
                                    address.to_string() + "\"");
    }
    uring::owned_fd fd = detail::open_socket(address.family(), SOCK_STREAM);
    if (opts.reuse_address)
    {
        detail::set_int_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
    }
    if (opts.reuse_port)
    {
        detail::set_int_option(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
    }
    detail::bind_to(fd.get(), address);
    detail::start_listening(fd.get(), opts.backlog);
    return tcp_listener(std::move(fd));
}

tcp_listener tcp_listener::bind(std::string_view host, std::uint16_t port)
{
    return bind(socket_address::parse(host, port), options{});
}

uring::converted_operation<uring::accept_operation, tcp_stream> tcp_listener::accept() const
{
    return {uring::accept_operation(m_fd.get()), &adopt_stream};
}

socket_address tcp_listener::local_address() const
{
    return detail::local_address_of(m_fd.get());
}

} // namespace weft
