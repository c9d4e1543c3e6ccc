#pragma once

#include <string_view>

#include <sys/socket.h>
#include <sys/types.h>

#include "runtime/net/socket_address.hpp"
#include "runtime/net/unix_stream.hpp"
#include "runtime/task.hpp"
#include "runtime/uring/accept_operation.hpp"
#include "runtime/uring/converted_operation.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft
{

/// A listening Unix-domain stream socket. bind() binds and listens at once; `co_await accept()`
/// yields each connection as a unix_stream. The listener removes the socket file it created when
/// it is closed or destroyed (unless another socket has since replaced the file). Move-only.
class unix_listener
{
  public:
    struct options
    {
        /// listen(2) backlog; the kernel caps it at net.core.somaxconn.
        int backlog = SOMAXCONN;
    };

    /// A listener that listens nowhere (is_open() false).
    unix_listener() noexcept = default;

    /// Binds to the Unix-domain `address` and listens. An existing file at the path is not
    /// removed: binding then throws std::system_error with EADDRINUSE. Throws std::system_error
    /// and std::invalid_argument for a non-Unix address.
    [[nodiscard]] static unix_listener bind(const socket_address& address);
    [[nodiscard]] static unix_listener bind(const socket_address& address, const options& opts);
    /// Same, for a filesystem path (or an abstract name starting with '\0').
    [[nodiscard]] static unix_listener bind(std::string_view path);

    unix_listener(unix_listener&& other) noexcept;
    unix_listener& operator=(unix_listener&& other) noexcept;
    unix_listener(const unix_listener&) = delete;
    unix_listener& operator=(const unix_listener&) = delete;
    ~unix_listener();

    /// `co_await accept()` waits for the next connection and yields it. Throws std::system_error
    /// and operation_cancelled when the task is stopped first; a cancelled accept takes no
    /// connection from the queue.
    [[nodiscard]] uring::converted_operation<uring::accept_operation, unix_stream> accept() const;

    /// The bound address. Throws std::system_error.
    [[nodiscard]] socket_address local_address() const;

    /// Removes the socket file, then closes through the ring (see uring::owned_fd::close).
    [[nodiscard]] uring::close_awaitable close() noexcept;

    [[nodiscard]] int native_handle() const noexcept { return m_fd.get(); }
    [[nodiscard]] bool is_open() const noexcept { return m_fd.valid(); }

  private:
    unix_listener(uring::owned_fd fd, std::string path, dev_t device, ino_t inode) noexcept;
    void unlink_path() noexcept;

    uring::owned_fd m_fd;
    // The socket file this listener created: removed only if the inode still matches.
    std::string m_path;
    dev_t m_device = 0;
    ino_t m_inode = 0;
};

} // namespace weft
