#pragma once

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <system_error>

#include "executors/channels/detail/authentication.hpp"
#include "executors/channels/detail/connection_end.hpp"
#include "executors/channels/detail/queue_codec.hpp"
#include "executors/detail/future_state.hpp"
#include "executors/errors.hpp"
#include "executors/interprocess/detail/robust_lock.hpp"
#include "executors/processes/shippable.hpp"
#include "runtime/task.hpp"
#include "runtime/with_timeout.hpp"

namespace weft
{

/// One end of a pipe (Python's multiprocessing.connection.Connection): send(value) and recv()
/// of whole messages of T, serialized as pool task arguments are; send_bytes/recv_bytes for raw
/// byte messages. Made by weft::pipe(); an end reaches another process by inheritance, as an
/// argument of a process target or pool task, or through a queue or another connection.
/// A message may hold shared memory (a shared_value, a lock, a queue, another connection): its
/// descriptors travel with it, which only a Unix-domain socket can carry (a pipe, a Unix
/// listener/client); over TCP, sending one throws std::invalid_argument and sends nothing.
///
/// recv() blocks until a message arrives and throws eof_error once the other end is closed in
/// every process that had it (close your copy of the other end after handing it to a child, as
/// in Python). poll(timeout) tells whether recv() would not block. Every blocking call has a
/// coroutine twin (async_send, async_recv) that waits through the event loop. Copies of a
/// handle in one process are the same end; close() closes it for all of them.
template <class T>
class connection
{
  public:
    /// Sends `value`. Throws invalid_state_error on a closed or read-only end,
    /// std::invalid_argument when `value` holds shared memory and the connection is TCP,
    /// std::system_error (EPIPE) when the other end is closed.
    void send(const T& value)
    {
        detail::attachments attached;
        const std::string body = detail::encode_queue_item(value, attached);
        m_end->send(body, attached);
    }

    /// Receives the next message. Throws eof_error when the other end is closed and nothing is
    /// left, invalid_state_error on a closed or write-only end (also when close() is called on
    /// this end, from any thread, while it waits).
    T recv()
    {
        detail::frame_reader reader;
        if (!m_end->receive(reader))
        {
            throw eof_error();
        }
        return detail::decode_queue_item<T>(reader.body(), std::move(reader.fds()));
    }

    /// Sends raw bytes as one message.
    void send_bytes(std::string_view bytes) { m_end->send(bytes, detail::attachments{}); }
    /// Receives one message's raw bytes (one sent by send_bytes).
    std::string recv_bytes()
    {
        detail::frame_reader reader;
        if (!m_end->receive(reader))
        {
            throw eof_error();
        }
        return std::move(reader.body());
    }

    /// Whether recv() would return (or throw eof_error) without blocking; poll() looks once.
    [[nodiscard]] bool poll() { return m_end->poll(std::chrono::steady_clock::now()); }
    /// The same, waiting at most `timeout` (negative: forever).
    template <class Rep, class Period>
    [[nodiscard]] bool poll(std::chrono::duration<Rep, Period> timeout)
    {
        return m_end->poll(detail::state_deadline(detail::deadline::after(timeout)));
    }

    /// send() for a coroutine. It takes turns with every other send on this end, blocking or
    /// not (one message at a time).
    [[nodiscard]] task<void> async_send(T value)
    {
        detail::attachments attached;
        std::string body = detail::encode_queue_item(value, attached);
        const auto end = m_end;
        co_await end->async_send(std::move(body), std::move(attached));
    }
    /// recv() for a coroutine. It takes turns with every other receive on this end, blocking or
    /// not.
    [[nodiscard]] task<T> async_recv()
    {
        const auto end = m_end;
        detail::frame_reader reader;
        if (!co_await end->async_receive(reader))
        {
            throw eof_error();
        }
        co_return detail::decode_queue_item<T>(reader.body(), std::move(reader.fds()));
    }

    /// Closes this end in this process (every handle of it here). Never waits: a send or
    /// receive waiting on it in another thread or coroutine wakes and throws
    /// invalid_state_error.
    void close() noexcept { m_end->close(); }
    [[nodiscard]] bool closed() const noexcept { return m_end->closed(); }
    [[nodiscard]] bool readable() const noexcept { return m_end->readable(); }
    [[nodiscard]] bool writable() const noexcept { return m_end->writable(); }

    template <class Archive>
    void save(Archive& archive) const
    {
        // A duplicate, owned by the message: this end may be closed (and its number reused)
        // before a queued task or a worker's initializer is sent.
        auto copy = std::make_shared<uring::owned_fd>(::fcntl(m_end->fd(), F_DUPFD_CLOEXEC, 0));
        if (!copy->valid())
        {
            throw std::system_error(errno, std::system_category(), "weft: connection: dup");
        }
        const std::uint32_t index = detail::attach_fd(copy->get(), copy);
        archive(index, m_end->readable(), m_end->writable());
    }
    template <class Archive>
    void load(Archive& archive)
    {
        std::uint32_t index = 0;
        bool readable = false;
        bool writable = false;
        archive(index, readable, writable);
        m_end = std::make_shared<detail::connection_end>(detail::attached_fd(index), readable,
                                                         writable);
    }
    /// For cereal: a handle that refers to nothing until loaded.
    explicit connection(detail::unloaded_t) noexcept {}

    /// An end over `fd` (what pipe() makes).
    connection(uring::owned_fd fd, bool readable, bool writable)
        : m_end(std::make_shared<detail::connection_end>(std::move(fd), readable, writable))
    {
    }

    /// Runs the authkey handshake on a new connection (listener and client), closing it and
    /// throwing authentication_error when it fails, or when the peer has not finished it
    /// `within` that long (none: no limit).
    void authenticate(bool as_server, std::string_view key,
                      std::optional<std::chrono::steady_clock::duration> within = std::nullopt)
    {
        detail::connection_end::deadline until;
        if (within)
        {
            until = detail::deadline_after(*within);
        }
        try
        {
            as_server ? detail::authenticate_server(*m_end, key, until)
                      : detail::authenticate_client(*m_end, key, until);
        }
        catch (...)
        {
            m_end->close();
            throw;
        }
    }

    /// The handshake through the event loop, with the same time limit (cancelled through the
    /// loop when it passes: the loop's thread is never blocked).
    task<void>
    async_authenticate(bool as_server, std::string key,
                       std::optional<std::chrono::steady_clock::duration> within = std::nullopt)
    {
        const auto end = m_end;
        try
        {
            task<void> handshake = as_server
                                       ? detail::async_authenticate_server(*end, std::move(key))
                                       : detail::async_authenticate_client(*end, std::move(key));
            if (within)
            {
                // with_timeout adds the limit to now: a century at most cannot overflow it.
                constexpr std::chrono::steady_clock::duration most = std::chrono::hours(24 * 36525);
                co_await with_timeout(std::min(*within, most), std::move(handshake));
            }
            else
            {
                co_await std::move(handshake);
            }
        }
        catch (const timeout_error&)
        {
            end->close();
            throw detail::handshake_timeout();
        }
        catch (...)
        {
            end->close();
            throw;
        }
    }

  private:
    std::shared_ptr<detail::connection_end> m_end;
};

} // namespace weft
