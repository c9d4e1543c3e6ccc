#define BOOST_TEST_MODULE tcp_stream
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <fcntl.h>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <system_error>

#include "net_support.hpp"
#include "support/run_task.hpp"

using namespace std::chrono_literals;
using weft::socket_address;
using weft::task;
using weft::tcp_listener;
using weft::tcp_stream;
using weft::testing::bytes_of;
using weft::testing::recv_exactly;
using weft::testing::run_task;
using weft::testing::spawn;
using weft::testing::until;

namespace
{

tcp_listener loopback_listener()
{
    return tcp_listener::bind("127.0.0.1", 0);
}

// A connected pair: the client side from connect(), the server side from accept().
task<std::pair<tcp_stream, tcp_stream>> connected_pair()
{
    tcp_listener listener = loopback_listener();
    tcp_stream client = co_await tcp_stream::connect(listener.local_address());
    tcp_stream server = co_await listener.accept();
    co_return std::pair{std::move(client), std::move(server)};
}

int error_code_of(const std::system_error& e)
{
    return e.code().value();
}

task<void> send_after(tcp_stream& stream, std::chrono::milliseconds delay, std::string text)
{
    co_await weft::sleep_for(delay);
    co_await stream.send_all(text);
}

task<std::size_t> recv_into(tcp_stream& stream, std::span<std::byte> buffer)
{
    co_return co_await stream.recv(buffer);
}

task<void> close_stream(tcp_stream& stream)
{
    co_await stream.close();
}

task<void> stop_after(std::stop_source& source, std::chrono::milliseconds delay)
{
    co_await weft::sleep_for(delay);
    source.request_stop();
}

} // namespace

BOOST_AUTO_TEST_CASE(echo_round_trip_over_ipv4)
{
    run_task(
        []() -> task<void>
        {
            tcp_listener listener = loopback_listener();
            spawn(weft::testing::serve_echo(listener, 1));
            tcp_stream client = co_await tcp_stream::connect(listener.local_address());
            co_await client.send_all("hello, weft");
            BOOST_TEST(co_await recv_exactly(client, 11) == "hello, weft");
            co_await client.shutdown(weft::shutdown_how::write);
            std::array<std::byte, 16> buffer{};
            BOOST_TEST(co_await client.recv(buffer) == 0u);
            co_await client.close();
        }());
}

BOOST_AUTO_TEST_CASE(connect_to_a_port_nobody_listens_on_throws_econnrefused)
{
    // A bound socket that never listens keeps the port from being reused while refusing
    // connections.
    const weft::uring::owned_fd bound(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    BOOST_REQUIRE(bound.valid());
    const socket_address any_port = socket_address::parse("127.0.0.1", 0);
    BOOST_REQUIRE(::bind(bound.get(), any_port.native(), any_port.native_size()) == 0);
    sockaddr_storage storage{};
    socklen_t size = sizeof storage;
    BOOST_REQUIRE(::getsockname(bound.get(), reinterpret_cast<sockaddr*>(&storage), &size) == 0);
    const socket_address target = socket_address::from_native(storage, size);

    const int error = run_task(
        [](socket_address address) -> task<int>
        {
            try
            {
                co_await tcp_stream::connect(address);
            }
            catch (const std::system_error& e)
            {
                co_return error_code_of(e);
            }
            co_return 0;
        }(target));
    BOOST_TEST(error == ECONNREFUSED);
}

BOOST_AUTO_TEST_CASE(recv_yields_zero_bytes_after_the_peer_shuts_down_writing)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            co_await server.send_all("last words");
            co_await server.shutdown(weft::shutdown_how::write);
            BOOST_TEST(co_await recv_exactly(client, 10) == "last words");
            std::array<std::byte, 16> buffer{};
            BOOST_TEST(co_await client.recv(buffer) == 0u);
            // End of stream is sticky, and the other direction still works.
            BOOST_TEST(co_await client.recv(buffer) == 0u);
            co_await client.send_all("reply");
            BOOST_TEST(co_await recv_exactly(server, 5) == "reply");
        }());
}

BOOST_AUTO_TEST_CASE(recv_after_the_peer_resets_the_connection_throws_econnreset)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            const linger reset_on_close{.l_onoff = 1, .l_linger = 0};
            BOOST_REQUIRE(::setsockopt(server.native_handle(), SOL_SOCKET, SO_LINGER,
                                       &reset_on_close, sizeof reset_on_close) == 0);
            server = tcp_stream(); // closes with an RST
            std::array<std::byte, 16> buffer{};
            int error = 0;
            try
            {
                co_await client.recv(buffer);
            }
            catch (const std::system_error& e)
            {
                error = error_code_of(e);
            }
            BOOST_TEST(error == ECONNRESET);
        }());
}

BOOST_AUTO_TEST_CASE(send_to_a_reset_peer_throws_instead_of_raising_sigpipe)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            const linger reset_on_close{.l_onoff = 1, .l_linger = 0};
            BOOST_REQUIRE(::setsockopt(server.native_handle(), SOL_SOCKET, SO_LINGER,
                                       &reset_on_close, sizeof reset_on_close) == 0);
            server = tcp_stream();
            std::vector<std::byte> chunk(4096);
            int error = 0;
            try
            {
                // The first sends may still be accepted locally; the reset surfaces soon.
                for (int i = 0; i < 1000; ++i)
                {
                    co_await client.send(chunk);
                }
            }
            catch (const std::system_error& e)
            {
                error = error_code_of(e);
            }
            BOOST_TEST((error == EPIPE || error == ECONNRESET));
        }());
}

BOOST_AUTO_TEST_CASE(recv_cancelled_by_its_stop_token_throws_and_the_stream_stays_usable)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            std::array<std::byte, 16> buffer{};
            std::stop_source source;
            spawn(stop_after(source, 20ms));
            bool cancelled = false;
            try
            {
                co_await weft::with_stop_token(source.get_token(), recv_into(client, buffer));
            }
            catch (const weft::operation_cancelled&)
            {
                cancelled = true;
            }
            BOOST_TEST(cancelled);
            co_await server.send_all("after cancel");
            BOOST_TEST(co_await recv_exactly(client, 12) == "after cancel");
        }());
}

BOOST_AUTO_TEST_CASE(recv_with_an_already_stopped_token_throws_without_consuming_data)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            co_await server.send_all("kept");
            std::stop_source source;
            source.request_stop();
            std::array<std::byte, 16> buffer{};
            bool cancelled = false;
            try
            {
                co_await weft::with_stop_token(source.get_token(), recv_into(client, buffer));
            }
            catch (const weft::operation_cancelled&)
            {
                cancelled = true;
            }
            BOOST_TEST(cancelled);
            BOOST_TEST(co_await recv_exactly(client, 4) == "kept");
        }());
}

BOOST_AUTO_TEST_CASE(with_timeout_on_recv_throws_timeout_error_and_loses_no_later_data)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            std::array<std::byte, 64> buffer{};
            bool timed_out = false;
            const auto start = std::chrono::steady_clock::now();
            try
            {
                co_await weft::with_timeout(30ms, client.recv(buffer));
            }
            catch (const weft::timeout_error&)
            {
                timed_out = true;
            }
            BOOST_TEST(timed_out);
            BOOST_TEST((std::chrono::steady_clock::now() - start >= 30ms));
            spawn(send_after(server, 10ms, "sent after the timeout"));
            BOOST_TEST(co_await recv_exactly(client, 22) == "sent after the timeout");
        }());
}

BOOST_AUTO_TEST_CASE(with_timeout_on_recv_returns_data_that_arrives_in_time)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            spawn(send_after(server, 5ms, "in time"));
            std::array<std::byte, 64> buffer{};
            const std::size_t n = co_await weft::with_timeout(5s, client.recv(buffer));
            BOOST_TEST(weft::testing::text_of(std::span(buffer).first(n)) == "in time");
        }());
}

BOOST_AUTO_TEST_CASE(send_all_delivers_a_buffer_larger_than_the_socket_buffers)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            std::string payload(8 * 1024 * 1024, '\0');
            for (std::size_t i = 0; i < payload.size(); ++i)
            {
                payload[i] = static_cast<char>('a' + i % 26);
            }
            spawn(
                [](tcp_stream& stream, const std::string& data) -> task<void>
                {
                    co_await stream.send_all(data);
                    co_await stream.shutdown(weft::shutdown_how::write);
                }(client, payload));
            BOOST_TEST((co_await recv_exactly(server, payload.size() + 1) == payload));
        }());
}

BOOST_AUTO_TEST_CASE(close_through_the_ring_closes_and_the_peer_sees_end_of_stream)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            const int fd = client.native_handle();
            co_await client.close();
            BOOST_TEST(!client.is_open());
            BOOST_TEST(client.native_handle() == -1);
            BOOST_TEST(::fcntl(fd, F_GETFD) == -1);
            std::array<std::byte, 16> buffer{};
            BOOST_TEST(co_await server.recv(buffer) == 0u);
            co_await client.close(); // closing twice is a no-op
        }());
}

BOOST_AUTO_TEST_CASE(destroying_an_open_stream_closes_its_descriptor)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            int fd = -1;
            {
                tcp_stream doomed = std::move(client);
                fd = doomed.native_handle();
                BOOST_TEST(!client.is_open());
            }
            BOOST_TEST(::fcntl(fd, F_GETFD) == -1);
            std::array<std::byte, 16> buffer{};
            BOOST_TEST(co_await server.recv(buffer) == 0u);
        }());
}

BOOST_AUTO_TEST_CASE(close_is_not_interrupted_by_a_stopped_token)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            const int fd = client.native_handle();
            std::stop_source source;
            source.request_stop();
            co_await weft::with_stop_token(source.get_token(), close_stream(client));
            BOOST_TEST(::fcntl(fd, F_GETFD) == -1);
        }());
}

BOOST_AUTO_TEST_CASE(sockets_are_non_blocking_and_close_on_exec)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            for (const tcp_stream* s : {&client, &server})
            {
                BOOST_TEST((::fcntl(s->native_handle(), F_GETFL) & O_NONBLOCK) != 0);
                BOOST_TEST((::fcntl(s->native_handle(), F_GETFD) & FD_CLOEXEC) != 0);
            }
        }());
}

BOOST_AUTO_TEST_CASE(local_and_peer_addresses_mirror_each_other)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            BOOST_TEST(client.local_address() == server.peer_address());
            BOOST_TEST(client.peer_address() == server.local_address());
            BOOST_TEST(client.peer_address().host() == "127.0.0.1");
        }());
}

BOOST_AUTO_TEST_CASE(set_nodelay_toggles_tcp_nodelay)
{
    run_task(
        []() -> task<void>
        {
            auto [client, server] = co_await connected_pair();
            const auto nodelay = [](int fd)
            {
                int value = -1;
                socklen_t size = sizeof value;
                ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &size);
                return value;
            };
            client.set_nodelay(true);
            BOOST_TEST(nodelay(client.native_handle()) != 0);
            client.set_nodelay(false);
            BOOST_TEST(nodelay(client.native_handle()) == 0);
        }());
}

BOOST_AUTO_TEST_CASE(connect_to_a_unix_address_throws_invalid_argument)
{
    BOOST_CHECK_THROW(run_task(tcp_stream::connect(socket_address::unix_path("/tmp/x.sock"))),
                      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_stopped_loop_cancels_a_pending_recv)
{
    weft::event_loop loop;
    const auto body = [](weft::event_loop& l) -> task<void>
    {
        auto [client, server] = co_await connected_pair();
        spawn(
            [](weft::event_loop& target) -> task<void>
            {
                co_await weft::sleep_for(10ms);
                target.stop();
            }(l));
        std::array<std::byte, 16> buffer{};
        co_await client.recv(buffer);
    };
    BOOST_CHECK_THROW(loop.run(weft::with_timeout(10s, body(loop))), weft::operation_cancelled);
}
