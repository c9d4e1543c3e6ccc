#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <sys/types.h>

#include "runtime/task.hpp"
#include "runtime/uring/converted_operation.hpp"
#include "runtime/uring/fsync_operation.hpp"
#include "runtime/uring/openat_operation.hpp"
#include "runtime/uring/owned_fd.hpp"
#include "runtime/uring/read_operation.hpp"
#include "runtime/uring/write_operation.hpp"

namespace weft
{

/// An open file whose reads and writes go through the ring at explicit offsets (there is no
/// file position). Move-only; destroying an open file closes it with close(2).
class file
{
  public:
    /// A file that is not open (is_open() false).
    file() noexcept = default;
    /// Adopts an open descriptor.
    explicit file(uring::owned_fd fd) noexcept : m_fd(std::move(fd)) {}

    /// `co_await file::open(path, flags, mode)` opens `path` with open(2) `flags` (O_RDONLY,
    /// O_RDWR | O_CREAT | O_TRUNC, ...; O_CLOEXEC is always added) and, when creating, `mode`.
    /// Throws std::system_error (ENOENT, EACCES, EISDIR, ...) and operation_cancelled when the
    /// task is stopped first.
    [[nodiscard]] static uring::converted_operation<uring::openat_operation, file>
    open(std::string path, int flags, mode_t mode = 0644);

    /// `co_await read_at(buffer, offset)` reads up to buffer.size() bytes starting at `offset`
    /// and yields the count; 0 at or past the end of the file. Throws std::system_error.
    /// `buffer` must outlive the await.
    [[nodiscard]] uring::read_operation read_at(std::span<std::byte> buffer,
                                                std::uint64_t offset) const noexcept
    {
        return {m_fd.get(), buffer, offset};
    }

    /// `co_await write_at(data, offset)` writes `data` starting at `offset` and yields how many
    /// bytes were written (short only when the disk fills or a limit is hit). Throws
    /// std::system_error (ENOSPC, EBADF for a file opened read-only, ...). `data` must outlive
    /// the await.
    [[nodiscard]] uring::write_operation write_at(std::span<const std::byte> data,
                                                  std::uint64_t offset) const noexcept
    {
        return {m_fd.get(), data, offset};
    }

    /// `co_await fsync()` waits until the file's data and metadata reach stable storage. Throws
    /// std::system_error (EIO, ...).
    [[nodiscard]] uring::fsync_operation fsync() const noexcept
    {
        return uring::fsync_operation(m_fd.get());
    }

    /// Closes through the ring; see uring::owned_fd::close.
    [[nodiscard]] uring::close_awaitable close() noexcept { return m_fd.close(); }

    [[nodiscard]] int native_handle() const noexcept { return m_fd.get(); }
    [[nodiscard]] bool is_open() const noexcept { return m_fd.valid(); }

  private:
    uring::owned_fd m_fd;
};

} // namespace weft
