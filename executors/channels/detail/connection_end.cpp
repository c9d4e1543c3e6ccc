#include "executors/channels/detail/connection_end.hpp"

#include <cerrno>
#include <exception>
#include <fcntl.h>
#include <limits>
#include <poll.h>
#include <stdexcept>

#include <sys/socket.h>
#include <system_error>

#include "runtime/errors.hpp"
#include "runtime/uring/poll_operation.hpp"

namespace weft::detail
{
namespace
{

// Python caps nothing either; the cap only stops a corrupt length from allocating the machine.
constexpr std::uint64_t message_limit = std::uint64_t{1} << 40;

// Waits for `events` on `fd` until `until`; false when it passed first.
bool wait_for(int fd, short events, std::optional<std::chrono::steady_clock::time_point> until)
{
    for (;;)
    {
        int timeout_ms = -1;
        if (until)
        {
            const auto left = *until - std::chrono::steady_clock::now();
            if (left <= left.zero())
            {
                timeout_ms = 0;
            }
            else
            {
                timeout_ms = static_cast<int>(std::min<std::int64_t>(
                    std::chrono::ceil<std::chrono::milliseconds>(left).count(),
                    std::numeric_limits<int>::max()));
            }
        }
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, timeout_ms);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n < 0)
        {
            throw std::system_error(errno, std::system_category(), "weft: connection: poll");
        }
        if (n > 0)
        {
            return true;
        }
        if (timeout_ms == 0)
        {
            return false;
        }
    }
}

} // namespace

connection_end::connection_end(uring::owned_fd fd, bool readable, bool writable)
    : m_fd(std::move(fd)), m_readable(readable), m_writable(writable), m_unix_domain(false)
{
    int domain = 0;
    socklen_t length = sizeof domain;
    m_unix_domain =
        ::getsockopt(m_fd.get(), SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 && domain == AF_UNIX;
    // Blocking: a blocking receive waits inside recvmsg (one system call per message); the
    // coroutine forms pass MSG_DONTWAIT and wait with an io_uring poll instead.
    const int flags = ::fcntl(m_fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(m_fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
    {
        throw std::system_error(errno, std::system_category(), "weft: connection: fcntl");
    }
}

int connection_end::checked_fd(bool for_reading) const
{
    if (!m_fd.valid())
    {
        throw invalid_state_error("weft: connection: handle is closed");
    }
    if (for_reading && m_broken)
    {
        throw invalid_state_error(
            "weft: connection: an earlier receive failed in the middle of a message");
    }
    if (for_reading && !m_readable)
    {
        throw invalid_state_error("weft: connection: connection is write-only");
    }
    if (!for_reading && !m_writable)
    {
        throw invalid_state_error("weft: connection: connection is read-only");
    }
    return m_fd.get();
}

void connection_end::check_can_carry(const attachments& attached) const
{
    if (!attached.empty() && !m_unix_domain)
    {
        // sendmsg would refuse it with a bare EINVAL.
        throw std::invalid_argument(
            "weft: connection: a message holding shared memory (or any other descriptor) can "
            "travel only over a Unix-domain connection, not TCP");
    }
}

int connection_end::fd() const
{
    if (!m_fd.valid())
    {
        throw invalid_state_error("weft: connection: handle is closed");
    }
    return m_fd.get();
}

void connection_end::send(std::string_view body, const attachments& attached)
{
    std::lock_guard held(m_send);
    const int fd = checked_fd(false);
    check_can_carry(attached);
    frame_writer writer(body, attached);
    while (writer.step(fd) == io_progress::would_block)
    {
        (void)wait_for(fd, POLLOUT, std::nullopt);
    }
}

bool connection_end::receive(frame_reader& into)
{
    return receive(into, message_limit);
}

bool connection_end::receive(frame_reader& into, std::uint64_t limit)
{
    std::lock_guard held(m_receive);
    const int fd = checked_fd(true);
    // A message cut short (a limit, lost descriptors) leaves the stream in the middle of it:
    // nothing after it can be read as a message any more.
    struct breaks_on_error
    {
        bool& broken;
        int pending = std::uncaught_exceptions();
        ~breaks_on_error()
        {
            if (std::uncaught_exceptions() > pending)
            {
                broken = true;
            }
        }
    } guard{m_broken};
    for (;;)
    {
        switch (into.step(fd, limit, m_buffer, true))
        {
        case io_progress::done:
            return true;
        case io_progress::closed:
            return false;
        case io_progress::would_block:
            (void)wait_for(fd, POLLIN, std::nullopt); // not reached with a blocking step
            break;
        }
    }
}

bool connection_end::poll(deadline until)
{
    const int fd = checked_fd(true);
    return m_buffer.available() > 0 || wait_for(fd, POLLIN, until);
}

task<void> connection_end::async_send(std::string body, attachments attached)
{
    const int fd = checked_fd(false);
    check_can_carry(attached);
    frame_writer writer(body, attached);
    while (writer.step(fd) == io_progress::would_block)
    {
        (void)co_await uring::poll_operation(fd, POLLOUT);
    }
}

task<bool> connection_end::async_receive(frame_reader& into)
{
    return async_receive(into, message_limit);
}

task<bool> connection_end::async_receive(frame_reader& into, std::uint64_t limit)
{
    const int fd = checked_fd(true);
    for (;;)
    {
        io_progress progress = io_progress::would_block;
        try
        {
            progress = into.step(fd, limit, m_buffer, false);
        }
        catch (...)
        {
            m_broken = true; // as receive(): the stream is in the middle of a message
            throw;
        }
        switch (progress)
        {
        case io_progress::done:
            co_return true;
        case io_progress::closed:
            co_return false;
        case io_progress::would_block:
            (void)co_await uring::poll_operation(fd, POLLIN);
            break;
        }
    }
}

void connection_end::close() noexcept
{
    std::scoped_lock held(m_send, m_receive);
    m_fd.reset();
}

bool connection_end::closed() const noexcept
{
    return !m_fd.valid();
}

} // namespace weft::detail
