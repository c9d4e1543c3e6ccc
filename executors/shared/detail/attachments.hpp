#pragma once
// Shared memory travels between processes as descriptors, beside the bytes of a message: while
// a message is encoded, every shared handle in it adds its segment to the thread's outbox and
// writes only an index; the sender then passes the segments' descriptors along (inherited by a
// spawned child, or SCM_RIGHTS over a socket), and the receiver's inbox maps them back.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "executors/shared/detail/shared_segment.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

/// The segments a message refers to, in index order (each once). Keeps them alive until sent.
class attachments
{
  public:
    /// The index of `segment` in this message, adding it the first time.
    std::uint32_t add(const std::shared_ptr<shared_segment>& segment);

    [[nodiscard]] bool empty() const noexcept { return m_segments.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return m_segments.size(); }
    /// The descriptors to pass, in index order.
    [[nodiscard]] std::vector<int> fds() const;
    void clear() noexcept { m_segments.clear(); }

  private:
    std::vector<std::shared_ptr<shared_segment>> m_segments;
};

/// While alive, shared handles encoded on this thread attach their segments to `into`
/// (scopes nest: the previous one comes back at destruction).
class attachment_scope
{
  public:
    explicit attachment_scope(attachments& into) noexcept;
    attachment_scope(const attachment_scope&) = delete;
    attachment_scope& operator=(const attachment_scope&) = delete;
    ~attachment_scope();

  private:
    attachments* m_previous;
};

/// Where a shared handle being encoded puts its segment: the innermost attachment_scope. Throws
/// std::logic_error when there is none (the bytes were being encoded for something that cannot
/// carry descriptors).
std::uint32_t attach_segment(const std::shared_ptr<shared_segment>& segment);

/// The receiving side: the descriptors of the message being decoded on this thread. Either
/// given outright (a spawned child's inherited descriptors) or fetched on first use from a
/// socket, in the datagrams sent with send_attachments for message `id`.
class attachment_inbox
{
  public:
    /// Descriptors already here, borrowed (not closed by the inbox).
    explicit attachment_inbox(std::span<const int> fds) noexcept;
    /// Descriptors to receive from `socket` for message `id`, on first use.
    attachment_inbox(int socket, std::uint64_t id) noexcept;
    attachment_inbox(const attachment_inbox&) = delete;
    attachment_inbox& operator=(const attachment_inbox&) = delete;
    ~attachment_inbox();

    /// The segment at `index` of the message. Throws std::runtime_error when the message came
    /// without it.
    [[nodiscard]] std::shared_ptr<shared_segment> segment(std::uint32_t index);

  private:
    void fetch();

    std::span<const int> m_borrowed;
    std::vector<uring::owned_fd> m_received;
    std::vector<std::shared_ptr<shared_segment>> m_segments; // mapped, by index
    int m_socket = -1;
    std::uint64_t m_id = 0;
    bool m_fetched = false;
    attachment_inbox* m_previous;
};

/// The segment at `index` of the message being decoded on this thread. Throws
/// std::logic_error when no inbox is active.
std::shared_ptr<shared_segment> attached_segment(std::uint32_t index);

/// Sends the descriptors of `what` for message `id` over a SOCK_SEQPACKET `socket` (in
/// datagrams of at most 250 descriptors). Throws std::system_error (EPIPE when the receiver is
/// gone).
void send_attachments(int socket, std::uint64_t id, const attachments& what);

} // namespace weft::detail
