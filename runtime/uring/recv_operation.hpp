#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

#include "runtime/uring/max_io_size.hpp"
#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_RECV: receives up to buffer.size() bytes from the socket `fd` (recv(2) `flags`).
/// Yields the byte count; 0 means the peer finished sending (end of stream), a value, not an
/// error. Throws std::system_error on failure (ECONNRESET, ...) and operation_cancelled when the
/// awaiting task is stopped before data arrived; data that arrived first is returned, not lost.
/// `buffer` must stay valid until the await finishes.
class recv_operation : public uring_operation<recv_operation>
{
  public:
    static constexpr const char* operation_name = "recv";

    recv_operation(int fd, std::span<std::byte> buffer, int flags = 0) noexcept
        : m_fd(fd), m_buffer(buffer), m_flags(flags)
    {
    }

  private:
    friend class uring_operation<recv_operation>;

    void prepare(io_uring_sqe& sqe) noexcept
    {
        io_uring_prep_recv(&sqe, m_fd, m_buffer.data(), std::min(m_buffer.size(), max_io_size),
                           m_flags);
    }
    std::size_t complete(int res)
    {
        return static_cast<std::size_t>(check_result(res, operation_name));
    }

    int m_fd;
    std::span<std::byte> m_buffer;
    int m_flags;
};

} // namespace weft::uring
