#pragma once

#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_POLL_ADD (one shot): waits until `fd` reports one of the poll(2) `events` (POLLIN,
/// POLLOUT, ...) and yields the events that are ready, which may include POLLERR and POLLHUP.
/// Useful for descriptors read outside the ring: a signalfd, a pidfd, a foreign library's socket.
/// Throws std::system_error on failure, operation_cancelled when the awaiting task is stopped
/// first.
class poll_operation : public uring_operation<poll_operation>
{
  public:
    static constexpr const char* operation_name = "poll";

    poll_operation(int fd, unsigned events) noexcept : m_fd(fd), m_events(events) {}

  private:
    friend class uring_operation<poll_operation>;

    void prepare(io_uring_sqe& sqe) noexcept { io_uring_prep_poll_add(&sqe, m_fd, m_events); }
    unsigned complete(int res) { return static_cast<unsigned>(check_result(res, operation_name)); }

    int m_fd;
    unsigned m_events;
};

} // namespace weft::uring
