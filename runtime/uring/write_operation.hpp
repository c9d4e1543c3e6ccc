#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/uring/max_io_size.hpp"
#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// IORING_OP_WRITE: writes bytes from `data` to `fd` at byte `offset` (pwrite(2)); the file
/// position is not used or moved. Yields how many bytes were written, which may be fewer than
/// data.size(). Throws std::system_error on failure (ENOSPC, EBADF, ...), operation_cancelled
/// when the awaiting task is stopped first. `data` must stay valid until the await finishes.
class write_operation : public uring_operation<write_operation>
{
  public:
    static constexpr const char* operation_name = "write";

    write_operation(int fd, std::span<const std::byte> data, std::uint64_t offset) noexcept
        : m_fd(fd), m_data(data), m_offset(offset)
    {
    }

  private:
    friend class uring_operation<write_operation>;

    void prepare(io_uring_sqe& sqe) noexcept
    {
        io_uring_prep_write(&sqe, m_fd, m_data.data(),
                            static_cast<unsigned>(std::min(m_data.size(), max_io_size)), m_offset);
    }
    std::size_t complete(int res)
    {
        return static_cast<std::size_t>(check_result(res, operation_name));
    }

    int m_fd;
    std::span<const std::byte> m_data;
    std::uint64_t m_offset;
};

} // namespace weft::uring
