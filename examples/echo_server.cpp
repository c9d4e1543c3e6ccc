// echo_server: a TCP echo server. One event loop accepts connections and serves each one as a
// spawned task; SIGINT and SIGTERM are read through the ring from a signalfd, and the handler
// calls loop.stop(), which cancels every pending accept, recv and send, so the server shuts
// down cleanly and exits 0.
//
//   build/examples/echo_server [--host 127.0.0.1] [--port 7777]
// prints "listening on 127.0.0.1:7777" (port 0 picks a free port and prints it), then serves
// until Ctrl-C or SIGTERM, prints "stopping on SIGINT" (or SIGTERM) and exits 0. Load it with
// build/examples/echo_client --port 7777.

#include <array>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <poll.h>
#include <span>
#include <string>
#include <string_view>
#include <unistd.h>
#include <weft/weft.hpp>

#include <sys/signalfd.h>
#include <system_error>

#include "runtime/uring/owned_fd.hpp"
#include "runtime/uring/poll_operation.hpp"

namespace
{

struct options
{
    std::string host = "127.0.0.1";
    std::uint16_t port = 7777;
};

[[noreturn]] void usage(const char* why)
{
    std::fprintf(stderr, "echo_server: %s\nusage: echo_server [--host ADDRESS] [--port N]\n", why);
    std::exit(2);
}

options parse_arguments(int argc, char** argv)
{
    options opts;
    for (int i = 1; i < argc; ++i)
    {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc)
        {
            usage("missing value after an option");
        }
        const std::string_view value = argv[++i];
        if (arg == "--host")
        {
            opts.host = value;
        }
        else if (arg == "--port")
        {
            unsigned port = 0;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
            if (ec != std::errc{} || end != value.data() + value.size() || port > 65535)
            {
                usage("--port takes a number from 0 to 65535");
            }
            opts.port = static_cast<std::uint16_t>(port);
        }
        else
        {
            usage("unknown option");
        }
    }
    return opts;
}

// Echoes until the client finishes sending. A client that resets the connection is not the
// server's problem: its error ends this connection only.
weft::task<void> serve_connection(weft::tcp_stream stream)
{
    std::array<std::byte, 16384> buffer{};
    try
    {
        stream.set_nodelay(true);
        for (;;)
        {
            const std::size_t n = co_await stream.recv(buffer);
            if (n == 0)
            {
                break;
            }
            co_await stream.send_all(std::span(buffer).first(n));
        }
    }
    catch (const std::system_error&)
    {
    }
    co_await stream.close();
}

// Waits for SIGINT or SIGTERM on the signalfd, then stops the loop: every pending await on it,
// the accept loop's included, throws operation_cancelled.
weft::task<void> stop_on_signal(weft::event_loop& loop, int signal_fd)
{
    co_await weft::uring::poll_operation(signal_fd, POLLIN);
    signalfd_siginfo info{};
    const bool got = ::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info);
    std::printf("stopping on %s\n", !got                       ? "a signal"
                                    : info.ssi_signo == SIGINT ? "SIGINT"
                                                               : "SIGTERM");
    std::fflush(stdout);
    loop.stop();
}

weft::task<int> serve(weft::event_loop& loop, const options& opts, int signal_fd)
{
    const weft::tcp_listener listener = weft::tcp_listener::bind(opts.host, opts.port);
    loop.spawn(stop_on_signal(loop, signal_fd));
    std::printf("listening on %s\n", listener.local_address().to_string().c_str());
    std::fflush(stdout);
    try
    {
        for (;;)
        {
            bool accept_failed = false;
            try
            {
                loop.spawn(serve_connection(co_await listener.accept()));
            }
            catch (const std::system_error& e)
            {
                // Out of descriptors or a connection aborted before it was accepted: report it
                // and keep serving the others.
                std::fprintf(stderr, "echo_server: accept: %s\n", e.what());
                accept_failed = true;
            }
            if (accept_failed)
            {
                co_await weft::sleep_for(std::chrono::milliseconds(10));
            }
        }
    }
    catch (const weft::operation_cancelled&)
    {
        // loop.stop() from the signal handler task: the normal way out.
    }
    co_return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const options opts = parse_arguments(argc, argv);

    // Blocked before any thread exists, so that no thread (the ring's workers included) takes
    // the signals; they are then only readable from the signalfd.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    if (::sigprocmask(SIG_BLOCK, &signals, nullptr) != 0)
    {
        std::perror("echo_server: sigprocmask");
        return 1;
    }
    const weft::uring::owned_fd signal_fd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!signal_fd.valid())
    {
        std::perror("echo_server: signalfd");
        return 1;
    }

    try
    {
        weft::event_loop loop;
        return loop.run(serve(loop, opts, signal_fd.get()));
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "echo_server: %s\n", e.what());
        return 1;
    }
}
