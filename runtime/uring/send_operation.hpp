#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

#include <sys/socket.h>

#include "runtime/uring/max_io_size.hpp"
#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_SEND: sends bytes from `data` on the socket `fd`. Yields how many were sent, which
/// may be fewer than data.size(). The default flags include MSG_NOSIGNAL: a peer that went away
/// is reported as std::system_error (EPIPE, ECONNRESET) rather than by SIGPIPE. Throws
/// operation_cancelled when the awaiting task is stopped first. `data` must stay valid until the
/// await finishes.
class send_operation : public uring_operation<send_operation>
{
  public:
    static constexpr const char* operation_name = "send";

    send_operation(int fd, std::span<const std::byte> data, int flags = MSG_NOSIGNAL) noexcept
        : m_fd(fd), m_data(data), m_flags(flags)
    {
    }

  private:
    friend class uring_operation<send_operation>;

    void prepare(io_uring_sqe& sqe) noexcept
    {
        io_uring_prep_send(&sqe, m_fd, m_data.data(), std::min(m_data.size(), max_io_size),
                           m_flags);
    }
    std::size_t complete(int res)
    {
        return static_cast<std::size_t>(check_result(res, operation_name));
    }

    int m_fd;
    std::span<const std::byte> m_data;
    int m_flags;
};

} // namespace weft::uring
