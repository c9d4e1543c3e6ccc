#pragma once
// One end of a pipe, shared by the handles of it in this process: the socket, which ways it
// goes, and the locks that keep two threads' messages from interleaving.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "executors/channels/detail/frame_io.hpp"
#include "runtime/task.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

class connection_end
{
  public:
    using deadline = std::optional<std::chrono::steady_clock::time_point>;

    /// Takes `fd` (made blocking here: the coroutine forms ask per call not to block).
    connection_end(uring::owned_fd fd, bool readable, bool writable);

    /// Sends one message, blocking while the socket is full. Throws invalid_state_error when
    /// closed or read-only, std::invalid_argument when the message holds shared memory and the
    /// socket is not a Unix-domain one, std::system_error (EPIPE: the other end is closed).
    void send(std::string_view body, const attachments& attached);
    /// Receives one message into `into`; false when the other end is closed (end of file).
    /// Throws invalid_state_error when closed or write-only.
    bool receive(frame_reader& into);
    /// The same, refusing a message longer than `limit` bytes (std::runtime_error).
    bool receive(frame_reader& into, std::uint64_t limit);
    /// Whether a message (or the end of file) can be received without blocking, waiting at most
    /// until `until` (none: forever).
    bool poll(deadline until);

    /// The same, suspending the coroutine instead of the thread (io_uring poll on the socket).
    task<void> async_send(std::string body, attachments attached);
    task<bool> async_receive(frame_reader& into);
    task<bool> async_receive(frame_reader& into, std::uint64_t limit);

    /// Closes the socket: every handle of this end in this process is closed.
    void close() noexcept;
    [[nodiscard]] bool closed() const noexcept;
    [[nodiscard]] bool readable() const noexcept { return m_readable; }
    [[nodiscard]] bool writable() const noexcept { return m_writable; }
    /// The socket (for sending the end to another process).
    [[nodiscard]] int fd() const;

  private:
    int checked_fd(bool for_reading) const;
    /// Throws std::invalid_argument when `attached` holds descriptors and the socket cannot
    /// pass them (TCP): before anything is written, so the connection stays usable.
    void check_can_carry(const attachments& attached) const;

    uring::owned_fd m_fd;
    receive_buffer m_buffer; // read and not yet handed out (guarded by m_receive)
    bool m_readable;
    bool m_writable;
    bool m_unix_domain;    // only a Unix-domain socket passes descriptors (SCM_RIGHTS)
    bool m_broken = false; // a receive failed in the middle of a message (guarded by m_receive)
    std::mutex m_send;     // one message at a time each way
    std::mutex m_receive;
};

} // namespace weft::detail
