#pragma once

#include <cerrno>
#include <unistd.h>

#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_CLOSE: closes the descriptor `fd`. Once submitted the descriptor is gone whatever
/// the result, as with close(2); when the awaiting task was stopped before submission it throws
/// operation_cancelled and `fd` is still open (owned_fd::close handles that case). Throws
/// std::system_error on failure (EBADF, EIO).
class close_operation : public uring_operation<close_operation>
{
  public:
    static constexpr const char* operation_name = "close";

    explicit close_operation(int fd) noexcept : m_fd(fd) {}

  private:
    friend class uring_operation<close_operation>;

    void prepare(io_uring_sqe& sqe) noexcept { io_uring_prep_close(&sqe, m_fd); }
    void complete(int res) { check_result(res, operation_name); }
    // A close is never cancelled on request (owned_fd::close gives it no stop token), but the
    // teardown of a loop cancels everything in the kernel: should that ever catch a close
    // before it ran, close synchronously, so that the descriptor is gone as promised.
    void on_cqe(int& res) noexcept
    {
        if (res == -ECANCELED)
        {
            res = ::close(m_fd) == 0 ? 0 : -errno;
        }
    }

    int m_fd;
};

} // namespace weft::uring
