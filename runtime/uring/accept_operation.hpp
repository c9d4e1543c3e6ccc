#pragma once

#include <unistd.h>

#include <sys/socket.h>

#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_ACCEPT: accepts one connection on the listening socket `fd`. Yields the new
/// descriptor, which the caller owns; `flags` are accept4(2) flags (non-blocking and
/// close-on-exec by default, since the ring punts blocking sockets to worker threads). Throws
/// std::system_error on failure, operation_cancelled when the awaiting task is stopped first.
class accept_operation : public uring_operation<accept_operation>
{
  public:
    static constexpr const char* operation_name = "accept";

    explicit accept_operation(int fd, int flags = SOCK_NONBLOCK | SOCK_CLOEXEC) noexcept
        : m_fd(fd), m_flags(flags)
    {
    }

  private:
    friend class uring_operation<accept_operation>;

    void prepare(io_uring_sqe& sqe) noexcept
    {
        io_uring_prep_accept(&sqe, m_fd, nullptr, nullptr, m_flags);
    }
    int complete(int res) { return check_result(res, operation_name); }
    // The descriptor of a completion that no task received (its frame was destroyed at loop
    // teardown before it resumed) is closed here instead of leaking.
    static void discard_result(int res) noexcept
    {
        if (res >= 0)
        {
            ::close(res);
        }
    }

    int m_fd;
    int m_flags;
};

} // namespace weft::uring
