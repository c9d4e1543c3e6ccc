#pragma once

#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_FSYNC: flushes `fd`'s data and metadata to stable storage (fsync(2)), or only the
/// data when `flags` is IORING_FSYNC_DATASYNC (fdatasync(2)). Throws std::system_error on failure
/// (EIO, ...), operation_cancelled when the awaiting task is stopped first.
class fsync_operation : public uring_operation<fsync_operation>
{
  public:
    static constexpr const char* operation_name = "fsync";

    explicit fsync_operation(int fd, unsigned flags = 0) noexcept : m_fd(fd), m_flags(flags) {}

  private:
    friend class uring_operation<fsync_operation>;

    void prepare(io_uring_sqe& sqe) noexcept { io_uring_prep_fsync(&sqe, m_fd, m_flags); }
    void complete(int res) { check_result(res, operation_name); }

    int m_fd;
    unsigned m_flags;
};

} // namespace weft::uring
