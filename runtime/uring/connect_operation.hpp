#pragma once

#include <cstring>
#include <stdexcept>

#include <sys/socket.h>

#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_CONNECT: connects the socket `fd` to `address`. The address is copied into the
/// operation, so the caller's copy may go away at once. Throws std::system_error (ECONNREFUSED,
/// ENETUNREACH, ...) on failure, operation_cancelled when the awaiting task is stopped first, and
/// std::invalid_argument from the constructor when `size` exceeds sockaddr_storage.
class connect_operation : public uring_operation<connect_operation>
{
  public:
    static constexpr const char* operation_name = "connect";

    connect_operation(int fd, const sockaddr* address, socklen_t size) : m_fd(fd), m_size(size)
    {
        if (size > sizeof m_address)
        {
            throw std::invalid_argument("weft: connect: address larger than sockaddr_storage");
        }
        std::memcpy(&m_address, address, size);
    }

  private:
    friend class uring_operation<connect_operation>;

    void prepare(io_uring_sqe& sqe) noexcept
    {
        io_uring_prep_connect(&sqe, m_fd, reinterpret_cast<const sockaddr*>(&m_address), m_size);
    }
    void complete(int res) { check_result(res, operation_name); }

    int m_fd;
    socklen_t m_size;
    sockaddr_storage m_address{};
};

} // namespace weft::uring
