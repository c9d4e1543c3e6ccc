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

/// The descriptors a message refers to (shared segments, a queue's socket), in index order,
/// each once, with what keeps each open until the message is sent.
class attachments
{
  public:
    /// The index of `segment` in this message, adding it the first time.
    std::uint32_t add(const std::shared_ptr<shared_segment>& segment);
    /// The index of descriptor `fd`, which `owner` keeps open, adding it the first time.
    std::uint32_t add(int fd, std::shared_ptr<const void> owner);

    [[nodiscard]] bool empty() const noexcept { return m_fds.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return m_fds.size(); }
    /// The descriptors to pass, in index order.
    [[nodiscard]] const std::vector<int>& fds() const noexcept { return m_fds; }
    void clear() noexcept
    {
        m_fds.clear();
        m_owners.clear();
    }

  private:
    std::vector<int> m_fds;
    std::vector<std::shared_ptr<const void>> m_owners;
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
/// The same for any descriptor that `owner` keeps open.
std::uint32_t attach_fd(int fd, std::shared_ptr<const void> owner);

/// The receiving side: the descriptors of the message being decoded on this thread. Either
/// given outright (a spawned child's inherited descriptors) or fetched on first use from a
/// socket, in the datagrams sent with send_attachments for message `id`.
class attachment_inbox
{
  public:
    /// Descriptors already here, borrowed (not closed by the inbox).
    explicit attachment_inbox(std::span<const int> fds) noexcept;
    /// Descriptors received already (receive_attachments), owned by the inbox.
    explicit attachment_inbox(std::vector<uring::owned_fd> fds) noexcept;
    /// Descriptors to receive from `socket` for message `id`, on first use.
    attachment_inbox(int socket, std::uint64_t id) noexcept;
    attachment_inbox(const attachment_inbox&) = delete;
    attachment_inbox& operator=(const attachment_inbox&) = delete;
    ~attachment_inbox();

    /// The segment at `index` of the message. Throws std::runtime_error when the message came
    /// without it.
    [[nodiscard]] std::shared_ptr<shared_segment> segment(std::uint32_t index);
    /// A descriptor of this process for the one at `index` (a duplicate: the caller owns it).
    [[nodiscard]] uring::owned_fd duplicate(std::uint32_t index);
    /// Receives and closes the message's descriptors if nothing fetched them (its decoding
    /// stopped first), so that they do not stay in the socket; a missing one is no error.
    void drop_unfetched() noexcept;

  private:
    void fetch();
    [[nodiscard]] int peek(std::uint32_t index);

    std::span<const int> m_borrowed;
    std::vector<uring::owned_fd> m_received;
    std::vector<std::shared_ptr<shared_segment>> m_segments; // mapped, by index
    int m_socket = -1;
    std::uint64_t m_id = 0;
    bool m_fetched = false;
    bool m_owns = false; // the descriptors are m_received (else m_borrowed)
    attachment_inbox* m_previous;
};

/// The segment at `index` of the message being decoded on this thread. Throws
/// std::logic_error when no inbox is active.
std::shared_ptr<shared_segment> attached_segment(std::uint32_t index);
/// A duplicate of the descriptor at `index` of the message being decoded on this thread.
uring::owned_fd attached_fd(std::uint32_t index);

/// Sends the descriptors of `what` for message `id` over a SOCK_SEQPACKET `socket` (in
/// datagrams of at most 250 descriptors). With wait = false (one datagram at most, else
/// std::length_error) returns false instead of blocking when the socket's buffer is full.
/// Throws std::system_error (EPIPE when the receiver is gone).
bool send_attachments(int socket, std::uint64_t id, const attachments& what, bool wait = true);

/// How many datagrams send_attachments sends for `what`.
[[nodiscard]] std::size_t attachment_datagrams(const attachments& what) noexcept;

/// How far a send of datagrams got.
struct datagrams_sent
{
    std::size_t went = 0; // datagrams that went, in order
    int error = 0;        // why the next one did not: EAGAIN (no room in the socket's buffer),
                          // another errno (EPIPE: the receiver is gone; ETOOMANYREFS...), or 0
};

/// Sends the datagrams of `what` for message `id` in order, without waiting, until one cannot
/// go; says how many went and why the next did not.
[[nodiscard]] datagrams_sent send_attachments_while_room(int socket, std::uint64_t id,
                                                         const attachments& what) noexcept;

/// Receives what send_attachments sent for message `id` (dropping older messages' datagrams),
/// without waiting: throws std::runtime_error when it is not there.
[[nodiscard]] std::vector<uring::owned_fd> receive_attachments(int socket, std::uint64_t id);

} // namespace weft::detail
