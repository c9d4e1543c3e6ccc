#pragma once
// Length-prefixed messages over a non-blocking stream socket, with the descriptors of the shared
// objects a message refers to passed as SCM_RIGHTS beside its header. Both directions are
// resumable state machines: a blocking call drives them with poll(2), a coroutine with an
// io_uring poll, and neither reads or writes past its own message.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "executors/shared/detail/attachments.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

/// What one step of a transfer came to.
enum class io_progress
{
    done,        // the whole message went or came
    would_block, // wait for the socket (POLLOUT to send, POLLIN to receive), then step again
    closed,      // receiving: the other end is closed (before a new message began)
};

struct frame_header
{
    std::uint64_t length = 0;
    std::uint32_t fds = 0;
    std::uint32_t reserved = 0;
};

/// Sends one message: step() until done.
class frame_writer
{
  public:
    /// `body` and the descriptors in `attached` must stay valid until done.
    frame_writer(std::string_view body, const attachments& attached);
    /// Throws std::system_error (EPIPE when the other end is closed).
    io_progress step(int fd);

  private:
    frame_header m_header;
    std::string_view m_body;
    const attachments* m_attached;
    std::size_t m_sent = 0; // of header + body
};

/// What one end has read from its socket and not yet handed out: a message may arrive with
/// part of the next, and one read brings a whole small message (header and body in one system
/// call). Descriptors are kept with the stream range of the read that brought them: the kernel
/// delivers them with the read that holds the first byte of their message's header, and stops
/// that read after their chunk.
class receive_buffer
{
  public:
    /// Reads what the socket has (blocking = wait in the kernel for at least one byte).
    /// Returns the bytes read, 0 at end of file, or io_progress::would_block as -1.
    long fill(int fd, bool blocking);

    [[nodiscard]] std::size_t available() const noexcept { return m_end - m_begin; }
    [[nodiscard]] std::uint64_t position() const noexcept { return m_position; }
    /// Takes `n` bytes (n <= available()) into `out`.
    void take(void* out, std::size_t n) noexcept;
    /// The descriptors that came with the read holding stream offset `at`.
    [[nodiscard]] std::vector<uring::owned_fd> descriptors_at(std::uint64_t at);
    /// Forgets what it holds, in a child forked while a thread of the parent was receiving into
    /// it (those bytes belong to the parent's message). Touches nothing that thread may have
    /// been changing at the fork: the list of descriptors is left, not destroyed (its memory
    /// and this process's copies of its descriptors leak).
    void abandon() noexcept;

    /// Marks a receive about to wait with nothing of its message read (`nothing_read`); the next
    /// read from the socket takes the mark away. A child forked meanwhile knows by it that its
    /// copy of the socket stands between two messages.
    void mark_waiting(bool nothing_read) noexcept
    {
        m_waiting_between_messages.store(nothing_read, std::memory_order_relaxed);
    }
    [[nodiscard]] bool waiting_between_messages() const noexcept
    {
        return m_waiting_between_messages.load(std::memory_order_relaxed);
    }

  private:
    struct delivery
    {
        std::uint64_t first; // stream offsets [first, last) of the read
        std::uint64_t last;
        std::vector<uring::owned_fd> fds;
    };

    std::vector<char> m_bytes = std::vector<char>(64 * 1024);
    std::size_t m_begin = 0;
    std::size_t m_end = 0;
    std::uint64_t m_position = 0; // stream offset of m_bytes[m_begin]
    std::vector<delivery> m_deliveries;
    std::atomic<bool> m_waiting_between_messages{false};
};

/// Receives one message: step() until done (or closed).
class frame_reader
{
  public:
    /// Throws std::system_error, std::runtime_error for a message cut short by the other end's
    /// close, or one longer than `limit` bytes. With `blocking`, waits in the kernel for data
    /// (the socket must then be a blocking one) and never returns would_block; without, it
    /// returns would_block when the socket has nothing yet.
    io_progress step(int fd, std::uint64_t limit, receive_buffer& buffer, bool blocking);

    /// Whether part of the message has been read (its header, at least).
    [[nodiscard]] bool started() const noexcept { return m_have_header; }
    [[nodiscard]] std::string& body() noexcept { return m_body; }
    [[nodiscard]] std::vector<uring::owned_fd>& fds() noexcept { return m_fds; }

  private:
    frame_header m_header;
    bool m_have_header = false;
    std::string m_body;
    std::size_t m_body_got = 0;
    std::vector<uring::owned_fd> m_fds;
};

} // namespace weft::detail
