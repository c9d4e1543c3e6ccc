#include "executors/channels/detail/connection_end.hpp"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <fcntl.h>
#include <limits>
#include <new>
#include <poll.h>
#include <pthread.h>
#include <stdexcept>
#include <thread>
#include <unistd.h>

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>

#include "runtime/errors.hpp"
#include "runtime/sleep.hpp"
#include "runtime/uring/poll_operation.hpp"

namespace weft::detail
{
namespace
{

// Python caps nothing either; the cap only stops a corrupt length from allocating the machine.
constexpr std::uint64_t message_limit = std::uint64_t{1} << 40;

// Bumped in every forked child: an end whose generation is older was last used by another
// process, and is adopted (connection_end::adopt_after_fork) before its first use here.
std::atomic<unsigned> g_fork_generation{0};

// Set in an end's generation, beside the generation it is being adopted for, while one thread
// adopts it. A child forked meanwhile sees it with its parent's generation, not its own: the
// adopting thread is not there to finish, so the mark is stale and the child adopts anew.
constexpr unsigned adopting = 1U << 31;

void count_fork() noexcept
{
    g_fork_generation.fetch_add(1, std::memory_order_relaxed);
}

unsigned fork_generation() noexcept
{
    // Only a chain of 2^31 nested forks could reach the bit.
    return g_fork_generation.load(std::memory_order_relaxed) & ~adopting;
}

const int g_atfork_registered = ::pthread_atfork(nullptr, nullptr, &count_fork);

invalid_state_error closed_error()
{
    return invalid_state_error("weft: connection: handle is closed");
}

int milliseconds_until(std::optional<std::chrono::steady_clock::time_point> until)
{
    if (!until)
    {
        return -1;
    }
    const auto left = *until - std::chrono::steady_clock::now();
    if (left <= left.zero())
    {
        return 0;
    }
    return static_cast<int>(
        std::min<std::int64_t>(std::chrono::ceil<std::chrono::milliseconds>(left).count(),
                               std::numeric_limits<int>::max()));
}

task<unsigned> poll_socket(int fd, unsigned events)
{
    co_return co_await uring::poll_operation(fd, events);
}

} // namespace

connection_end::connection_end(uring::owned_fd fd, bool readable, bool writable)
    : m_fd(std::move(fd)), m_readable(readable), m_writable(writable), m_unix_domain(false),
      m_generation(fork_generation())
{
    int domain = 0;
    socklen_t length = sizeof domain;
    m_unix_domain =
        ::getsockopt(m_fd.get(), SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 && domain == AF_UNIX;
    // Blocking: a blocking receive waits inside recvmsg, one system call per message (a poll
    // before it costs ~10 us more per round trip across CPUs here). Sends and the coroutine
    // forms pass MSG_DONTWAIT.
    const int flags = ::fcntl(m_fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(m_fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
    {
        throw std::system_error(errno, std::system_category(), "weft: connection: fcntl");
    }
    // A blocked recvmsg returns every receive_check to see whether close() was called from
    // another thread: nothing else can reach into it without touching the socket itself, which
    // other processes may share (shutdown would end it for them too).
    const timeval check{0, static_cast<suseconds_t>(receive_check.count())};
    if (::setsockopt(m_fd.get(), SOL_SOCKET, SO_RCVTIMEO, &check, sizeof check) != 0)
    {
        throw std::system_error(errno, std::system_category(), "weft: connection: SO_RCVTIMEO");
    }
}

connection_end::~connection_end()
{
    // A child may drop an end it never used: destroying the parent's condition variable there
    // waits for the parent's threads waiting on it, which the child does not have.
    adopt_after_fork();
}

void connection_end::adopt_after_fork() noexcept
{
    const unsigned now = fork_generation();
    unsigned seen = m_generation.load(std::memory_order_acquire);
    while (seen != now)
    {
        if (seen == (adopting | now))
        {
            std::this_thread::yield(); // another thread of this process is adopting it
            seen = m_generation.load(std::memory_order_acquire);
            continue;
        }
        // An older generation, or a stale mark: redone from the start, as the work of an
        // adopting thread that did not come through the fork may be half done.
        if (!m_generation.compare_exchange_weak(seen, adopting | now, std::memory_order_acquire))
        {
            continue;
        }
        // Only this thread touches the end until the store below. The inherited lock and
        // condition variable may be held or waited on by threads of the parent: new ones take
        // their storage, and the old are neither unlocked nor destroyed (either would be
        // undefined, and a broadcast to waiters that do not exist here can wait for ever).
        new (&m_state) std::mutex;
        new (&m_freed) std::condition_variable;
        // The stop callbacks on the inherited source are the parent's coroutines': close() here
        // would run them, reaching into the parent's event loops (their locks, eventfds, even
        // the io_uring rings they share with this process). Its state is left, not released.
        new (&m_close_signal) std::stop_source;
        if (m_receiving)
        {
            // A thread of the parent was receiving. If it was waiting for a message to begin,
            // the socket stands between two messages here too, and what its receive held
            // (nothing, or a copy torn by the fork) is dropped. If it had read part of one,
            // where the next message starts is unknown here: reading on would hand out the
            // rest of that message as messages, so receiving here throws instead. Sending is
            // unaffected: the parent's thread finishes its message on its own.
            m_forked_mid_message = !m_buffer.waiting_between_messages();
            m_buffer.abandon();
        }
        m_sending = false;
        m_receiving = false;
        m_buffer.mark_waiting(false);
        m_wake.reset(); // this process's copy of the parent's eventfd: writing it wakes theirs
        if (m_closing.load())
        {
            m_fd.reset(); // the parent's close() left it to a call that is not in this process
        }
        m_generation.store(now, std::memory_order_release);
        return;
    }
}

void connection_end::note_receive_wait(const frame_reader& reader) noexcept
{
    m_buffer.mark_waiting(!reader.started() && m_buffer.available() == 0);
}

bool connection_end::take(way w, deadline until)
{
    adopt_after_fork();
    std::unique_lock held(m_state);
    const auto free = [&] { return !busy(w) || m_closing.load(); };
    if (!until)
    {
        m_freed.wait(held, free);
    }
    else if (!m_freed.wait_until(held, *until, free))
    {
        return false;
    }
    if (m_closing.load())
    {
        throw closed_error();
    }
    busy(w) = true;
    return true;
}

task<void> connection_end::async_take(way w)
{
    for (;;)
    {
        adopt_after_fork();
        {
            std::lock_guard held(m_state);
            if (m_closing.load())
            {
                throw closed_error();
            }
            if (!busy(w))
            {
                busy(w) = true;
                co_return;
            }
        }
        // Another thread or coroutine is sending (or receiving) on this end. A coroutine must
        // not block its loop's thread on the condition variable: it looks again shortly.
        co_await sleep_for(std::chrono::milliseconds(1));
    }
}

void connection_end::give_back(way w) noexcept
{
    {
        std::lock_guard held(m_state);
        busy(w) = false;
        if (w == way::receive)
        {
            m_buffer.mark_waiting(false);
        }
        if (m_closing.load() && !m_sending && !m_receiving)
        {
            m_fd.reset(); // close() left it to the last call using it
            m_wake.reset();
        }
    }
    m_freed.notify_all();
}

int connection_end::wake_fd()
{
    std::lock_guard held(m_state);
    // Checked under the lock close() writes under: either close() sees this eventfd, or this
    // sees the end closed.
    if (m_closing.load())
    {
        throw closed_error();
    }
    if (!m_wake.valid()) // this process's own: adopt_after_fork dropped the parent's
    {
        m_wake = uring::owned_fd(::eventfd(0, EFD_CLOEXEC));
        if (!m_wake.valid())
        {
            throw std::system_error(errno, std::system_category(), "weft: connection: eventfd");
        }
    }
    return m_wake.get();
}

bool connection_end::wait(int fd, short events, deadline until)
{
    pollfd p[2] = {{fd, events, 0}, {wake_fd(), POLLIN, 0}};
    for (;;)
    {
        const int timeout_ms = milliseconds_until(until);
        const int n = ::poll(p, 2, timeout_ms);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n < 0)
        {
            throw std::system_error(errno, std::system_category(), "weft: connection: poll");
        }
        if (m_closing.load())
        {
            throw closed_error();
        }
        if (p[0].revents != 0)
        {
            return true;
        }
        if (timeout_ms == 0)
        {
            return false;
        }
    }
}

task<void> connection_end::async_wait(int fd, unsigned events)
{
    try
    {
        // Under close()'s stop token as well as the awaiting task's own.
        (void)co_await with_stop_token(m_close_signal.get_token(), poll_socket(fd, events));
    }
    catch (const operation_cancelled&)
    {
        if (!m_closing.load())
        {
            throw; // the awaiting task was stopped
        }
    }
    if (m_closing.load())
    {
        throw closed_error();
    }
}

int connection_end::checked_fd(bool for_reading) const
{
    if (m_closing.load())
    {
        throw closed_error();
    }
    if (for_reading && m_forked_mid_message)
    {
        throw invalid_state_error(
            "weft: connection: this process was forked while another thread was in the middle "
            "of receiving a message on this end: it cannot receive here (sending still works)");
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

int connection_end::fd()
{
    adopt_after_fork();
    std::lock_guard held(m_state);
    if (m_closing.load())
    {
        throw closed_error();
    }
    return m_fd.get();
}

void connection_end::send(std::string_view body, const attachments& attached)
{
    (void)take(way::send);
    const held_way held(*this, way::send);
    const int fd = checked_fd(false);
    check_can_carry(attached);
    frame_writer writer(body, attached);
    while (writer.step(fd) == io_progress::would_block)
    {
        (void)wait(fd, POLLOUT, std::nullopt);
    }
}

bool connection_end::receive(frame_reader& into)
{
    return receive(into, message_limit);
}

bool connection_end::receive(frame_reader& into, std::uint64_t limit, deadline until)
{
    (void)take(way::receive);
    const held_way held(*this, way::receive);
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
    // Waits inside recvmsg, which gives up every receive_check (the socket's receive timeout)
    // so that a close() from another thread is seen.
    for (;;)
    {
        io_progress progress = io_progress::would_block;
        try
        {
            // With a deadline, never inside recvmsg: a peer sending a byte at a time would keep
            // a blocking read going past it.
            note_receive_wait(into); // without one, it waits inside step()
            progress = into.step(fd, limit, m_buffer, !until);
        }
        catch (...)
        {
            if (m_closing.load())
            {
                throw closed_error();
            }
            throw;
        }
        if (m_closing.load())
        {
            throw closed_error();
        }
        switch (progress)
        {
        case io_progress::done:
            return true;
        case io_progress::closed:
            return false;
        case io_progress::would_block:
            // The receive timeout (or O_NONBLOCK set by another holder): again. With a
            // deadline: waits in poll (beside close()'s eventfd) until data or the deadline.
            note_receive_wait(into);
            if (until && !wait(fd, POLLIN, until))
            {
                throw timeout_error("weft: connection: no message came in time");
            }
            break;
        }
    }
}

bool connection_end::poll(deadline until)
{
    if (!take(way::receive, until))
    {
        return false; // another receive has the end until past the deadline
    }
    const held_way held(*this, way::receive);
    const int fd = checked_fd(true);
    if (m_buffer.available() > 0)
    {
        return true;
    }
    m_buffer.mark_waiting(true);
    return wait(fd, POLLIN, until);
}

task<void> connection_end::async_send(std::string body, attachments attached)
{
    co_await async_take(way::send);
    const held_way held(*this, way::send);
    const int fd = checked_fd(false);
    check_can_carry(attached);
    frame_writer writer(body, attached);
    while (writer.step(fd) == io_progress::would_block)
    {
        co_await async_wait(fd, POLLOUT);
    }
}

task<bool> connection_end::async_receive(frame_reader& into)
{
    return async_receive(into, message_limit);
}

task<bool> connection_end::async_receive(frame_reader& into, std::uint64_t limit)
{
    co_await async_take(way::receive);
    const held_way held(*this, way::receive);
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
            note_receive_wait(into);
            co_await async_wait(fd, POLLIN);
            break;
        }
    }
}

void connection_end::close() noexcept
{
    adopt_after_fork();
    {
        std::lock_guard held(m_state);
        if (m_closing.load())
        {
            return;
        }
        m_closing.store(true);
        if (m_wake.valid()) // wakes a thread in wait()
        {
            const std::uint64_t one = 1;
            (void)!::write(m_wake.get(), &one, sizeof one);
        }
        if (!m_sending && !m_receiving)
        {
            m_fd.reset();
            m_wake.reset();
        }
    }
    m_freed.notify_all();          // threads waiting for their turn
    m_close_signal.request_stop(); // coroutines in an io_uring poll on the socket
}

bool connection_end::closed() const noexcept
{
    return m_closing.load();
}

} // namespace weft::detail
