#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

#include <sys/socket.h>
#include <sys/uio.h>

#include "runtime/uring/max_io_size.hpp"
#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_RECVMSG: receives one message (a UDP datagram) into `buffer` from the socket `fd`,
/// with the sender's address. MSG_TRUNC is always added to the flags so that a datagram longer
/// than the buffer is reported as truncated instead of silently cut. Throws std::system_error on
/// failure, operation_cancelled when the awaiting task is stopped first. `buffer` must stay valid
/// until the await finishes.
class recvmsg_operation : public uring_operation<recvmsg_operation>
{
  public:
    static constexpr const char* operation_name = "recvmsg";

    /// What one receive produced.
    struct result
    {
        /// Bytes written into the buffer.
        std::size_t size = 0;
        /// True when the message was longer than the buffer and its tail was discarded.
        bool truncated = false;
        /// The sender's address; `source_size` is 0 when the socket type has none.
        sockaddr_storage source{};
        socklen_t source_size = 0;
    };

    recvmsg_operation(int fd, std::span<std::byte> buffer, int flags = 0) noexcept
        : m_fd(fd), m_buffer(buffer), m_flags(flags | MSG_TRUNC)
    {
    }

  private:
    friend class uring_operation<recvmsg_operation>;

    // msghdr and iovec point into the operation and so are filled only here, after the last
    // move; the kernel writes the sender and its length back through them.
    void prepare(io_uring_sqe& sqe) noexcept
    {
        m_iov.iov_base = m_buffer.data();
        m_iov.iov_len = std::min(m_buffer.size(), max_io_size);
        m_message = msghdr{};
        m_message.msg_name = &m_result.source;
        m_message.msg_namelen = sizeof m_result.source;
        m_message.msg_iov = &m_iov;
        m_message.msg_iovlen = 1;
        io_uring_prep_recvmsg(&sqe, m_fd, &m_message, static_cast<unsigned>(m_flags));
    }
    result complete(int res)
    {
        // With MSG_TRUNC the kernel returns the datagram's full length, which may exceed the
        // buffer.
        const auto length = static_cast<std::size_t>(check_result(res, operation_name));
        m_result.size = std::min(length, m_iov.iov_len);
        m_result.truncated = length > m_iov.iov_len || (m_message.msg_flags & MSG_TRUNC) != 0;
        m_result.source_size = m_message.msg_namelen;
        return m_result;
    }

    int m_fd;
    std::span<std::byte> m_buffer;
    int m_flags;
    result m_result{};
    iovec m_iov{};
    msghdr m_message{};
};

} // namespace weft::uring
