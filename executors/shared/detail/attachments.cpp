#include "executors/shared/detail/attachments.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <span>
#include <stdexcept>
#include <string>

#include <sys/socket.h>
#include <system_error>

#include "executors/detail/scm_rights.hpp"

namespace weft::detail
{
namespace
{

thread_local attachments* t_outbox = nullptr;
thread_local attachment_inbox* t_inbox = nullptr;

// SCM_MAX_FD is 253; a few below it.
constexpr std::size_t fds_per_datagram = 250;

struct datagram_head
{
    std::uint64_t id;
    std::uint32_t total; // descriptors of the whole message
    std::uint32_t first; // index of this datagram's first descriptor
};

} // namespace

std::uint32_t attachments::add(const std::shared_ptr<shared_segment>& segment)
{
    return add(segment->fd(), segment);
}

std::uint32_t attachments::add(int fd, std::shared_ptr<const void> owner)
{
    auto found = std::find(m_fds.begin(), m_fds.end(), fd);
    if (found != m_fds.end())
    {
        return static_cast<std::uint32_t>(found - m_fds.begin());
    }
    m_fds.push_back(fd);
    m_owners.push_back(std::move(owner));
    return static_cast<std::uint32_t>(m_fds.size() - 1);
}

attachment_scope::attachment_scope(attachments& into) noexcept : m_previous(t_outbox)
{
    t_outbox = &into;
}

attachment_scope::~attachment_scope()
{
    t_outbox = m_previous;
}

std::uint32_t attach_segment(const std::shared_ptr<shared_segment>& segment)
{
    return attach_fd(segment->fd(), segment);
}

std::uint32_t attach_fd(int fd, std::shared_ptr<const void> owner)
{
    if (t_outbox == nullptr)
    {
        throw std::logic_error(
            "weft: shared memory (shared_value, shared_array, an interprocess lock) can be sent "
            "only as an argument of a process, a pool task or an initializer, or through a "
            "weft queue");
    }
    return t_outbox->add(fd, std::move(owner));
}

attachment_inbox::attachment_inbox(std::span<const int> fds) noexcept
    : m_borrowed(fds), m_fetched(true), m_previous(t_inbox)
{
    t_inbox = this;
}

attachment_inbox::attachment_inbox(std::vector<uring::owned_fd> fds) noexcept
    : m_received(std::move(fds)), m_fetched(true), m_owns(true), m_previous(t_inbox)
{
    t_inbox = this;
}

attachment_inbox::attachment_inbox(int socket, std::uint64_t id) noexcept
    : m_socket(socket), m_id(id), m_owns(true), m_previous(t_inbox)
{
    t_inbox = this;
}

attachment_inbox::~attachment_inbox()
{
    t_inbox = m_previous;
}

void attachment_inbox::fetch()
{
    m_fetched = true;
    m_received = receive_attachments(m_socket, m_id);
}

void attachment_inbox::drop_unfetched() noexcept
{
    if (m_fetched || m_socket < 0)
    {
        return;
    }
    m_fetched = true;
    try
    {
        (void)receive_attachments(m_socket, m_id);
    }
    catch (...) // not there, or cut off: nothing is left to drop
    {
    }
}

std::vector<uring::owned_fd> receive_attachments(int socket, std::uint64_t id)
{
    std::vector<uring::owned_fd> received;
    std::size_t total = 0;
    bool first = true;
    while (first || received.size() < total)
    {
        datagram_head head{};
        iovec iov{&head, sizeof head};
        alignas(cmsghdr) char control[CMSG_SPACE(fds_per_datagram * sizeof(int))];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        // The sender passes the descriptors before the message itself, so they are here by
        // the time it is decoded: never wait (a missing datagram is an error, not a hang).
        const ssize_t got = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (got < 0 && errno == EINTR)
        {
            continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
            throw std::runtime_error("weft: the descriptors sent with a message did not arrive");
        }
        if (got < 0)
        {
            throw std::system_error(errno, std::system_category(),
                                    "weft: receiving shared memory descriptors");
        }
        if (got != static_cast<ssize_t>(sizeof head))
        {
            throw std::runtime_error("weft: the descriptors sent with a message did not arrive");
        }
        std::vector<uring::owned_fd> fds;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
        {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            {
                const std::size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (std::size_t i = 0; i < n; ++i)
                {
                    int fd = -1;
                    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                    fds.emplace_back(fd);
                }
            }
        }
        if ((msg.msg_flags & MSG_CTRUNC) != 0)
        {
            throw std::runtime_error("weft: shared memory descriptors were cut off (fd limit?)");
        }
        if (head.id != id)
        {
            continue; // a message whose decoding stopped before its descriptors: dropped
        }
        first = false;
        total = head.total;
        if (head.first != received.size())
        {
            throw std::runtime_error("weft: shared memory descriptors arrived out of order");
        }
        for (auto& fd : fds)
        {
            received.push_back(std::move(fd));
        }
    }
    return received;
}

int attachment_inbox::peek(std::uint32_t index)
{
    if (!m_fetched)
    {
        fetch();
    }
    if (m_owns)
    {
        if (index >= m_received.size() || !m_received[index].valid())
        {
            throw std::runtime_error("weft: a shared memory descriptor is missing from a message");
        }
        return m_received[index].get();
    }
    if (index >= m_borrowed.size())
    {
        throw std::runtime_error("weft: a shared memory descriptor is missing from a message");
    }
    return m_borrowed[index];
}

uring::owned_fd attachment_inbox::duplicate(std::uint32_t index)
{
    uring::owned_fd fd(::fcntl(peek(index), F_DUPFD_CLOEXEC, 0));
    if (!fd.valid())
    {
        throw std::system_error(errno, std::system_category(),
                                "weft: duplicating a received descriptor");
    }
    return fd;
}

std::shared_ptr<shared_segment> attachment_inbox::segment(std::uint32_t index)
{
    if (index < m_segments.size() && m_segments[index] != nullptr)
    {
        return m_segments[index];
    }
    auto segment = shared_segment::adopt(duplicate(index));
    if (m_segments.size() <= index)
    {
        m_segments.resize(index + 1);
    }
    m_segments[index] = segment;
    return segment;
}

std::shared_ptr<shared_segment> attached_segment(std::uint32_t index)
{
    if (t_inbox == nullptr)
    {
        throw std::logic_error("weft: shared memory decoded outside a message that carries it");
    }
    return t_inbox->segment(index);
}

uring::owned_fd attached_fd(std::uint32_t index)
{
    if (t_inbox == nullptr)
    {
        throw std::logic_error("weft: a descriptor decoded outside a message that carries it");
    }
    return t_inbox->duplicate(index);
}

namespace
{

// Sends the datagrams of `fds` for message `id` until one cannot go: without `wait`, one that
// does not fit in the socket's buffer (EAGAIN); in any case one the kernel refuses (its errno).
datagrams_sent send_datagrams(int socket, std::uint64_t id, std::span<const int> fds,
                              bool wait) noexcept
{
    datagrams_sent sent;
    for (std::size_t first = 0; first < fds.size(); first += fds_per_datagram, ++sent.went)
    {
        const std::size_t n = std::min(fds_per_datagram, fds.size() - first);
        datagram_head head{id, static_cast<std::uint32_t>(fds.size()),
                           static_cast<std::uint32_t>(first)};
        iovec iov{&head, sizeof head};
        scm_rights_buffer<fds_per_datagram> control;
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        attach_descriptors(msg, control.bytes, fds.subspan(first, n));
        while (::sendmsg(socket, &msg, MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT)) < 0)
        {
            if (errno != EINTR)
            {
                sent.error = errno == EWOULDBLOCK ? EAGAIN : errno;
                return sent;
            }
        }
    }
    return sent;
}

} // namespace

std::size_t attachment_datagrams(const attachments& what) noexcept
{
    return (what.fds().size() + fds_per_datagram - 1) / fds_per_datagram;
}

bool send_attachments(int socket, std::uint64_t id, const attachments& what, bool wait)
{
    if (!wait && what.fds().size() > fds_per_datagram)
    {
        throw std::length_error("weft: a message may carry at most 250 shared objects");
    }
    const datagrams_sent sent = send_datagrams(socket, id, what.fds(), wait);
    if (sent.error == EAGAIN && !wait)
    {
        return false;
    }
    if (sent.error != 0)
    {
        throw std::system_error(sent.error, std::system_category(),
                                "weft: sending shared memory descriptors");
    }
    return true;
}

datagrams_sent send_attachments_while_room(int socket, std::uint64_t id,
                                           const attachments& what) noexcept
{
    return send_datagrams(socket, id, what.fds(), false);
}

} // namespace weft::detail
