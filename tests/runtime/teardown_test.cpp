#define BOOST_TEST_MODULE teardown
// What a loop destroyed with work in flight leaves behind: no descriptor that an accept or
// openat completion carried, whether or not its task ever ran again; and no close that did not
// happen. Descriptors are counted in /proc/self/fd before the loop exists and after it is gone.
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <netinet/in.h>
#include <sys/socket.h>

#include "runtime/uring/accept_operation.hpp"
#include "runtime/uring/openat_operation.hpp"
#include "runtime/uring/owned_fd.hpp"

using namespace std::chrono_literals;
using weft::event_loop;
using weft::task;

namespace
{

std::size_t open_fds()
{
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    {
        ++n;
    }
    return n;
}

bool is_open(int fd)
{
    return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

// A non-blocking listening TCP socket on 127.0.0.1 and an ephemeral port.
struct listening_socket
{
    int fd = -1;
    sockaddr_in address{};

    listening_socket()
    {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        BOOST_REQUIRE(fd >= 0);
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        socklen_t length = sizeof address;
        BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        BOOST_REQUIRE(::listen(fd, 16) == 0);
    }
    ~listening_socket() { ::close(fd); }
    listening_socket(const listening_socket&) = delete;
    listening_socket& operator=(const listening_socket&) = delete;

    // A blocking connect: it completes as soon as the kernel queues the connection, before
    // anyone accepts it.
    [[nodiscard]] int connect_client() const
    {
        const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        BOOST_REQUIRE(client >= 0);
        BOOST_REQUIRE(
            ::connect(client, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
        return client;
    }
};

// Submits `op` with a continuation that does nothing, so that its completion is delivered (the
// op holds the result) but no task ever receives it; then keeps the frame, and the op in it,
// until the loop's teardown destroys it.
template <class Op>
task<void> submit_and_abandon(Op op, bool& submitted)
{
    BOOST_REQUIRE(op.await_suspend(std::noop_coroutine()));
    submitted = true;
    co_await weft::sleep_for(1h);
}

} // namespace

BOOST_AUTO_TEST_CASE(accepted_descriptor_never_received_is_closed_at_teardown)
{
    listening_socket listener;
    const std::size_t before = open_fds();
    int client = -1;
    {
        event_loop loop;
        bool submitted = false;
        loop.spawn(submit_and_abandon(weft::uring::accept_operation(listener.fd), submitted));
        loop.run(
            [](const listening_socket& l, int& c) -> task<void>
            {
                co_await weft::sleep_for(10ms); // the accept is in the kernel now
                c = l.connect_client();
                co_await weft::sleep_for(20ms); // and its completion, with a new fd, delivered
            }(listener, client));
        BOOST_TEST(submitted);
        BOOST_TEST(open_fds() == before + 4); // ring, eventfd, client, and the accepted one
    }
    ::close(client);
    BOOST_TEST(open_fds() == before); // the accepted descriptor went with the loop
}

BOOST_AUTO_TEST_CASE(accept_completing_during_teardown_leaks_nothing)
{
    // The connection arrives while the accept waits in the kernel and the loop is not running:
    // teardown's cancellation races the completion. Whichever wins, nothing may stay open.
    listening_socket listener;
    const std::size_t before = open_fds();
    for (int round = 0; round < 20; ++round)
    {
        int client = -1;
        {
            event_loop loop;
            bool submitted = false;
            loop.spawn(submit_and_abandon(weft::uring::accept_operation(listener.fd), submitted));
            loop.run([]() -> task<void> { co_await weft::sleep_for(2ms); }());
            client = listener.connect_client();
        }
        ::close(client);
        BOOST_TEST(open_fds() == before);
    }
}

BOOST_AUTO_TEST_CASE(opened_descriptor_never_received_is_closed_at_teardown)
{
    const std::size_t before = open_fds();
    {
        event_loop loop;
        bool submitted = false;
        loop.spawn(submit_and_abandon(
            weft::uring::openat_operation(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0),
            submitted));
        loop.run([]() -> task<void> { co_await weft::sleep_for(20ms); }());
        BOOST_TEST(submitted);
        BOOST_TEST(open_fds() == before + 3); // ring, eventfd, and the opened one
    }
    BOOST_TEST(open_fds() == before);
}

BOOST_AUTO_TEST_CASE(received_descriptor_is_the_tasks_to_keep)
{
    // The other side of the rule: once await_resume handed the descriptor over, teardown does
    // not close it.
    const std::size_t before = open_fds();
    int fd = -1;
    {
        event_loop loop;
        fd = loop.run(
            []() -> task<int>
            {
                co_return co_await weft::uring::openat_operation(AT_FDCWD, "/dev/null",
                                                                 O_RDONLY | O_CLOEXEC, 0);
            }());
    }
    BOOST_TEST(is_open(fd));
    BOOST_TEST(open_fds() == before + 1);
    ::close(fd);
}

BOOST_AUTO_TEST_CASE(close_under_a_stopped_token_still_closes)
{
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    BOOST_REQUIRE(fd >= 0);
    std::stop_source stopped;
    stopped.request_stop();
    event_loop loop;
    loop.run(weft::with_stop_token(stopped.get_token(),
                                   [](int f) -> task<void>
                                   {
                                       weft::uring::owned_fd owned(f);
                                       co_await owned.close(); // not an await the stop interrupts
                                   }(fd)));
    BOOST_TEST(!is_open(fd));
}

BOOST_AUTO_TEST_CASE(close_queued_when_the_loop_is_destroyed_still_happens)
{
    // The close's SQE is queued but not yet submitted when run() returns; teardown submits it
    // together with its cancel-everything request, and the close must not be the casualty.
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    BOOST_REQUIRE(fd >= 0);
    {
        event_loop loop;
        loop.spawn(
            [](int f) -> task<void>
            {
                weft::uring::owned_fd owned(f);
                co_await owned.close();
            }(fd));
        loop.run([]() -> task<void> { co_return; }());
    }
    BOOST_TEST(!is_open(fd));
}
