#include "executors/channels/detail/frame_io.hpp"

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>

#include <sys/socket.h>
#include <system_error>

#include "executors/detail/scm_rights.hpp"

namespace weft::detail
{
namespace
{

constexpr std::size_t most_fds = 250;

bool would_block(int error) noexcept
{
    return error == EAGAIN || error == EWOULDBLOCK;
}

} // namespace

frame_writer::frame_writer(std::string_view body, const attachments& attached)
    : m_body(body), m_attached(&attached)
{
    if (attached.size() > most_fds)
    {
        throw std::length_error("weft: a message may carry at most 250 shared objects");
    }
    m_header.length = body.size();
    m_header.fds = static_cast<std::uint32_t>(attached.size());
}

io_progress frame_writer::step(int fd)
{
    const std::size_t total = sizeof m_header + m_body.size();
    while (m_sent < total)
    {
        ssize_t n = 0;
        if (m_sent < sizeof m_header)
        {
            iovec parts[2] = {
                {reinterpret_cast<char*>(&m_header) + m_sent, sizeof m_header - m_sent},
                {const_cast<char*>(m_body.data()), m_body.size()}};
            msghdr msg{};
            msg.msg_iov = parts;
            msg.msg_iovlen = m_body.empty() ? 1 : 2;
            scm_rights_buffer<most_fds> control;
            if (m_sent == 0 && !m_attached->empty())
            {
                // With the first byte of the header: the receiver gets them with it.
                attach_descriptors(msg, control.bytes, m_attached->fds());
            }
            n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        else
        {
            const std::size_t at = m_sent - sizeof m_header;
            n = ::send(fd, m_body.data() + at, m_body.size() - at, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        if (n < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            if (would_block(errno))
            {
                return io_progress::would_block;
            }
            throw std::system_error(errno, std::system_category(), "weft: connection: send");
        }
        m_sent += static_cast<std::size_t>(n);
    }
    return io_progress::done;
}

long receive_buffer::fill(int fd, bool blocking)
{
    if (m_begin == m_end)
    {
        m_begin = m_end = 0;
    }
    else if (m_end == m_bytes.size())
    {
        // Move the unread part to the front (a header is never larger than the buffer).
        std::memmove(m_bytes.data(), m_bytes.data() + m_begin, m_end - m_begin);
        m_end -= m_begin;
        m_begin = 0;
    }
    for (;;)
    {
        iovec part{m_bytes.data() + m_end, m_bytes.size() - m_end};
        alignas(cmsghdr) char control[CMSG_SPACE(most_fds * sizeof(int))];
        msghdr msg{};
        msg.msg_iov = &part;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | (blocking ? 0 : MSG_DONTWAIT));
        if (n < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            if (would_block(errno))
            {
                return -1;
            }
            throw std::system_error(errno, std::system_category(), "weft: connection: recv");
        }
        m_waiting_between_messages.store(false, std::memory_order_relaxed); // a message began
        std::vector<uring::owned_fd> fds;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
        {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            {
                const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (std::size_t i = 0; i < count; ++i)
                {
                    int received = -1;
                    std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof received);
                    fds.emplace_back(received);
                }
            }
        }
        const std::uint64_t first = m_position + (m_end - m_begin);
        m_end += static_cast<std::size_t>(n);
        if (!fds.empty())
        {
            m_deliveries.push_back({first, first + static_cast<std::uint64_t>(n), std::move(fds)});
        }
        return static_cast<long>(n);
    }
}

void receive_buffer::take(void* out, std::size_t n) noexcept
{
    std::memcpy(out, m_bytes.data() + m_begin, n);
    m_begin += n;
    m_position += n;
}

void receive_buffer::abandon() noexcept
{
    // A push_back may have been reallocating the list at the fork: destroying it would free
    // what may be a half-copied array. m_bytes is never resized, so its storage stays whole,
    // and m_position is only the base for what is read from now on.
    new (&m_deliveries) std::vector<delivery>;
    m_begin = m_end = 0;
    m_waiting_between_messages.store(false, std::memory_order_relaxed);
}

std::vector<uring::owned_fd> receive_buffer::descriptors_at(std::uint64_t at)
{
    std::vector<uring::owned_fd> found;
    for (auto it = m_deliveries.begin(); it != m_deliveries.end();)
    {
        if (at >= it->first && at < it->last)
        {
            found = std::move(it->fds);
            it = m_deliveries.erase(it);
        }
        else if (it->last <= at)
        {
            it = m_deliveries.erase(it); // a read before this message: its message took them
        }
        else
        {
            ++it;
        }
    }
    return found;
}

io_progress frame_reader::step(int fd, std::uint64_t limit, receive_buffer& buffer, bool blocking)
{
    while (!m_have_header)
    {
        if (buffer.available() >= sizeof m_header)
        {
            const std::uint64_t at = buffer.position();
            buffer.take(&m_header, sizeof m_header);
            m_have_header = true;
            if (m_header.length > limit)
            {
                throw std::runtime_error("weft: connection: a message of " +
                                         std::to_string(m_header.length) +
                                         " bytes is over the limit");
            }
            if (m_header.fds > 0)
            {
                m_fds = buffer.descriptors_at(at);
                if (m_fds.size() != m_header.fds)
                {
                    throw std::runtime_error(
                        "weft: connection: a message's descriptors are missing");
                }
            }
            m_body.resize(static_cast<std::size_t>(m_header.length));
            break;
        }
        const long n = buffer.fill(fd, blocking);
        if (n < 0)
        {
            return io_progress::would_block;
        }
        if (n == 0)
        {
            if (buffer.available() == 0)
            {
                return io_progress::closed;
            }
            throw std::runtime_error("weft: connection: the other end closed in a message");
        }
    }
    for (;;)
    {
        const std::size_t from_buffer = std::min(buffer.available(), m_body.size() - m_body_got);
        buffer.take(m_body.data() + m_body_got, from_buffer);
        m_body_got += from_buffer;
        if (m_body_got == m_body.size())
        {
            return io_progress::done;
        }
        // A large body: straight into place, not through the buffer.
        const ssize_t n = ::recv(fd, m_body.data() + m_body_got, m_body.size() - m_body_got,
                                 blocking ? 0 : MSG_DONTWAIT);
        if (n < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            if (would_block(errno))
            {
                return io_progress::would_block;
            }
            throw std::system_error(errno, std::system_category(), "weft: connection: recv");
        }
        if (n == 0)
        {
            throw std::runtime_error("weft: connection: the other end closed in a message");
        }
        m_body_got += static_cast<std::size_t>(n);
    }
}

} // namespace weft::detail
