#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/uring/max_io_size.hpp"
#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_READ: reads up to buffer.size() bytes from `fd` at byte `offset` (pread(2)); the
/// file position is not used or moved. Yields the byte count; 0 means `offset` is at or past the
/// end of the file. Throws std::system_error on failure, operation_cancelled when the awaiting
/// task is stopped first. `buffer` must stay valid until the await finishes.
class read_operation : public uring_operation<read_operation>
{
  public:
    static constexpr const char* operation_name = "read";

    read_operation(int fd, std::span<std::byte> buffer, std::uint64_t offset) noexcept
        : m_fd(fd), m_buffer(buffer), m_offset(offset)
    {
    }

  private:
    friend class uring_operation<read_operation>;

    void prepare(io_uring_sqe& sqe) noexcept
    {
        io_uring_prep_read(&sqe, m_fd, m_buffer.data(),
                           static_cast<unsigned>(std::min(m_buffer.size(), max_io_size)), m_offset);
    }
    std::size_t complete(int res)
    {
        return static_cast<std::size_t>(check_result(res, operation_name));
    }

    int m_fd;
    std::span<std::byte> m_buffer;
    std::uint64_t m_offset;
};

} // namespace weft::uring
