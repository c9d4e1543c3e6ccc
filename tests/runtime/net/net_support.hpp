#pragma once
// Helpers shared by the socket tests: spawning on the current loop, bounded waits, an echo
// handler, and reading an exact number of bytes.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <unistd.h>
#include <utility>
#include <weft/weft.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

namespace weft::testing
{

/// Starts `t` on the loop running the calling task.
inline void spawn(task<void> t)
{
    event_loop::require_current("spawn").spawn(std::move(t));
}

/// Suspends until `done()` holds, checking every millisecond; run_task's deadline bounds it.
template <class Done>
task<void> until(Done done)
{
    while (!done())
    {
        co_await sleep_for(std::chrono::milliseconds(1));
    }
}

inline std::span<const std::byte> bytes_of(std::string_view text) noexcept
{
    return std::as_bytes(std::span(text));
}

inline std::string text_of(std::span<const std::byte> bytes)
{
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

/// Receives until `size` bytes arrived or the peer finished sending; returns what arrived.
template <class Stream>
task<std::string> recv_exactly(Stream& stream, std::size_t size)
{
    std::string received;
    std::array<std::byte, 4096> buffer{};
    while (received.size() < size)
    {
        const std::size_t n = co_await stream.recv(
            std::span(buffer).first(std::min(buffer.size(), size - received.size())));
        if (n == 0)
        {
            break;
        }
        received += text_of(std::span(buffer).first(n));
    }
    co_return received;
}

/// Sends back everything it receives until the peer finishes sending, then closes.
template <class Stream>
task<void> echo(Stream stream)
{
    std::array<std::byte, 16384> buffer{};
    for (;;)
    {
        const std::size_t n = co_await stream.recv(buffer);
        if (n == 0)
        {
            break;
        }
        co_await stream.send_all(std::span(buffer).first(n));
    }
    co_await stream.close();
}

/// Accepts `count` connections from `listener`, serving each with echo() as its own task.
template <class Listener>
task<void> serve_echo(Listener& listener, int count)
{
    for (int i = 0; i < count; ++i)
    {
        spawn(echo(co_await listener.accept()));
    }
}

/// True when an IPv6 socket can be bound to ::1 (the loopback may lack IPv6 in containers).
inline bool ipv6_loopback_available()
{
    const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
    {
        return false;
    }
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    const bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return bound;
}

} // namespace weft::testing
