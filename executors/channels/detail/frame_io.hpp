#pragma once
// Length-prefixed messages over a non-blocking stream socket, with the descriptors of the shared
// objects a message refers to passed as SCM_RIGHTS beside its header. Both directions are
// resumable state machines: a blocking call drives them with poll(2), a coroutine with an
// io_uring poll, and neither reads or writes past its own message.

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

/// Receives one message: step() until done (or closed).
class frame_reader
{
  public:
    /// Throws std::system_error, std::runtime_error for a message cut short by the other end's
    /// close, or one longer than `limit` bytes.
    io_progress step(int fd, std::uint64_t limit);

    [[nodiscard]] std::string& body() noexcept { return m_body; }
    [[nodiscard]] std::vector<uring::owned_fd>& fds() noexcept { return m_fds; }

  private:
    frame_header m_header;
    std::size_t m_header_got = 0;
    std::string m_body;
    std::size_t m_body_got = 0;
    std::vector<uring::owned_fd> m_fds;
};

} // namespace weft::detail
