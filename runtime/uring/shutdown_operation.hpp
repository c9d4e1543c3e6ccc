#pragma once

#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_SHUTDOWN: shuts down part of a full-duplex connection on the socket `fd`; `how` is
/// SHUT_RD, SHUT_WR or SHUT_RDWR as for shutdown(2). Throws std::system_error on failure
/// (ENOTCONN, ...), operation_cancelled when the awaiting task is stopped first.
class shutdown_operation : public uring_operation<shutdown_operation>
{
  public:
    static constexpr const char* operation_name = "shutdown";

    shutdown_operation(int fd, int how) noexcept : m_fd(fd), m_how(how) {}

  private:
    friend class uring_operation<shutdown_operation>;

    void prepare(io_uring_sqe& sqe) noexcept { io_uring_prep_shutdown(&sqe, m_fd, m_how); }
    void complete(int res) { check_result(res, operation_name); }

    int m_fd;
    int m_how;
};

} // namespace weft::uring
