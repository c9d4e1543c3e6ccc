#include "runtime/net/detail/stream_socket.hpp"

#include "runtime/net/detail/socket_ops.hpp"

namespace weft::detail
{
namespace
{

// Takes the descriptor by value when called, not when first resumed, so that a moved-from
// stream cannot change what the task writes to.
task<void> send_all_on(int fd, std::span<const std::byte> data)
{
    while (!data.empty())
    {
        const std::size_t sent = co_await uring::send_operation(fd, data);
        data = data.subspan(sent);
    }
}

} // namespace

task<void> stream_socket::send_all(std::span<const std::byte> data) const
{
    return send_all_on(m_fd.get(), data);
}

socket_address stream_socket::local_address() const
{
    return local_address_of(m_fd.get());
}

socket_address stream_socket::peer_address() const
{
    return peer_address_of(m_fd.get());
}

} // namespace weft::detail
