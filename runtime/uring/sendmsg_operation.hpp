#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <stdexcept>

#include <sys/socket.h>
#include <sys/uio.h>

#include "runtime/uring/max_io_size.hpp"
#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_SENDMSG: sends `data` as one message on the socket `fd`, to `destination` when it is
/// not null (UDP sendto) or to the connected peer. Yields the byte count sent. The destination is
/// copied into the operation; `data` must stay valid until the await finishes. MSG_NOSIGNAL is in
/// the default flags. Throws std::system_error on failure, operation_cancelled when the awaiting
/// task is stopped first, and std::invalid_argument from the constructor when `size` exceeds
/// sockaddr_storage.
class sendmsg_operation : public uring_operation<sendmsg_operation>
{
  public:
    static constexpr const char* operation_name = "sendmsg";

    sendmsg_operation(int fd, std::span<const std::byte> data, const sockaddr* destination,
                      socklen_t size, int flags = MSG_NOSIGNAL)
        : m_fd(fd), m_data(data), m_flags(flags)
    {
        if (destination != nullptr)
        {
            if (size > sizeof m_destination)
            {
                throw std::invalid_argument("weft: sendmsg: address larger than sockaddr_storage");
            }
            std::memcpy(&m_destination, destination, size);
            m_destination_size = size;
        }
    }

  private:
    friend class uring_operation<sendmsg_operation>;

    // The kernel reads the msghdr and iovec while the request is in flight, so they live in the
    // operation; they point into it, and so are filled only here, after the last move.
    void prepare(io_uring_sqe& sqe) noexcept
    {
        m_iov.iov_base = const_cast<std::byte*>(m_data.data());
        m_iov.iov_len = std::min(m_data.size(), max_io_size);
        m_message = msghdr{};
        if (m_destination_size > 0)
        {
            m_message.msg_name = &m_destination;
            m_message.msg_namelen = m_destination_size;
        }
        m_message.msg_iov = &m_iov;
        m_message.msg_iovlen = 1;
        io_uring_prep_sendmsg(&sqe, m_fd, &m_message, static_cast<unsigned>(m_flags));
    }
    std::size_t complete(int res)
    {
        return static_cast<std::size_t>(check_result(res, operation_name));
    }

    int m_fd;
    std::span<const std::byte> m_data;
    int m_flags;
    socklen_t m_destination_size = 0;
    sockaddr_storage m_destination{};
    iovec m_iov{};
    msghdr m_message{};
};

} // namespace weft::uring
