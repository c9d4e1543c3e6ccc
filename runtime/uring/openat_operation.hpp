#pragma once

#include <string>
#include <unistd.h>
#include <utility>

#include <sys/types.h>

#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_OPENAT: opens `path` relative to the directory `dirfd` (AT_FDCWD for the working
/// directory) with open(2) `flags` and `mode`. Yields the new descriptor, which the caller owns.
/// The path is stored in the operation. Throws std::system_error on failure (ENOENT, EACCES,
/// ...), operation_cancelled when the awaiting task is stopped first.
class openat_operation : public uring_operation<openat_operation>
{
  public:
    static constexpr const char* operation_name = "openat";

    openat_operation(int dirfd, std::string path, int flags, mode_t mode)
        : m_dirfd(dirfd), m_path(std::move(path)), m_flags(flags), m_mode(mode)
    {
    }

  private:
    friend class uring_operation<openat_operation>;

    void prepare(io_uring_sqe& sqe) noexcept
    {
        io_uring_prep_openat(&sqe, m_dirfd, m_path.c_str(), m_flags, m_mode);
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

    int m_dirfd;
    std::string m_path;
    int m_flags;
    mode_t m_mode;
};

} // namespace weft::uring
