#define BOOST_TEST_MODULE udp_socket
#include <array>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "net_support.hpp"
#include "support/run_task.hpp"

using namespace std::chrono_literals;
using weft::socket_address;
using weft::task;
using weft::udp_socket;
using weft::testing::bytes_of;
using weft::testing::run_task;
using weft::testing::text_of;

namespace
{

task<udp_socket::datagram> recv_from_into(const udp_socket& socket, std::span<std::byte> buffer)
{
    co_return co_await socket.recv_from(buffer);
}

} // namespace

BOOST_AUTO_TEST_CASE(datagram_round_trip_reports_the_sender)
{
    run_task(
        []() -> task<void>
        {
            const udp_socket server = udp_socket::bind("127.0.0.1", 0);
            const udp_socket client = udp_socket::bind("127.0.0.1", 0);
            BOOST_TEST(server.local_address().port() != 0);

            BOOST_TEST(co_await client.send_to(bytes_of("ping"), server.local_address()) == 4u);
            std::array<std::byte, 64> buffer{};
            const udp_socket::datagram request = co_await server.recv_from(buffer);
            BOOST_TEST(text_of(std::span(buffer).first(request.size)) == "ping");
            BOOST_TEST(!request.truncated);
            BOOST_TEST(request.source == client.local_address());

            co_await server.send_to(bytes_of("pong"), request.source);
            const udp_socket::datagram reply = co_await client.recv_from(buffer);
            BOOST_TEST(text_of(std::span(buffer).first(reply.size)) == "pong");
            BOOST_TEST(reply.source == server.local_address());
        }());
}

BOOST_AUTO_TEST_CASE(datagram_boundaries_are_preserved)
{
    run_task(
        []() -> task<void>
        {
            const udp_socket server = udp_socket::bind("127.0.0.1", 0);
            const udp_socket client = udp_socket::bind("127.0.0.1", 0);
            co_await client.send_to(bytes_of("one"), server.local_address());
            co_await client.send_to(bytes_of("three"), server.local_address());
            co_await client.send_to(bytes_of(""), server.local_address());
            std::array<std::byte, 64> buffer{};
            BOOST_TEST((co_await server.recv_from(buffer)).size == 3u);
            BOOST_TEST((co_await server.recv_from(buffer)).size == 5u);
            BOOST_TEST((co_await server.recv_from(buffer)).size == 0u);
        }());
}

BOOST_AUTO_TEST_CASE(a_datagram_longer_than_the_buffer_is_reported_truncated)
{
    run_task(
        []() -> task<void>
        {
            const udp_socket server = udp_socket::bind("127.0.0.1", 0);
            const udp_socket client = udp_socket::bind("127.0.0.1", 0);
            co_await client.send_to(bytes_of("0123456789"), server.local_address());
            std::array<std::byte, 4> small{};
            const udp_socket::datagram received = co_await server.recv_from(small);
            BOOST_TEST(received.size == 4u);
            BOOST_TEST(received.truncated);
            BOOST_TEST(text_of(small) == "0123");
        }());
}

BOOST_AUTO_TEST_CASE(recv_from_cancelled_by_its_stop_token_throws_and_the_socket_stays_usable)
{
    run_task(
        []() -> task<void>
        {
            const udp_socket server = udp_socket::bind("127.0.0.1", 0);
            const udp_socket client = udp_socket::bind("127.0.0.1", 0);
            std::stop_source source;
            weft::testing::spawn(
                [](std::stop_source& s) -> task<void>
                {
                    co_await weft::sleep_for(10ms);
                    s.request_stop();
                }(source));
            std::array<std::byte, 16> buffer{};
            bool cancelled = false;
            try
            {
                co_await weft::with_stop_token(source.get_token(), recv_from_into(server, buffer));
            }
            catch (const weft::operation_cancelled&)
            {
                cancelled = true;
            }
            BOOST_TEST(cancelled);
            co_await client.send_to(bytes_of("later"), server.local_address());
            const udp_socket::datagram received = co_await server.recv_from(buffer);
            BOOST_TEST(text_of(std::span(buffer).first(received.size)) == "later");
        }());
}

BOOST_AUTO_TEST_CASE(recv_from_under_with_timeout_throws_timeout_error)
{
    run_task(
        []() -> task<void>
        {
            const udp_socket server = udp_socket::bind("127.0.0.1", 0);
            std::array<std::byte, 16> buffer{};
            bool timed_out = false;
            try
            {
                co_await weft::with_timeout(20ms, server.recv_from(buffer));
            }
            catch (const weft::timeout_error&)
            {
                timed_out = true;
            }
            BOOST_TEST(timed_out);
        }());
}

BOOST_AUTO_TEST_CASE(many_datagrams_in_flight_all_arrive)
{
    run_task(
        []() -> task<void>
        {
            const udp_socket server = udp_socket::bind("127.0.0.1", 0);
            const udp_socket client = udp_socket::bind("127.0.0.1", 0);
            constexpr int count = 200;
            int received = 0;
            weft::testing::spawn(
                [](const udp_socket& s, int& n) -> task<void>
                {
                    std::array<std::byte, 16> buffer{};
                    for (int i = 0; i < count; ++i)
                    {
                        co_await s.recv_from(buffer);
                        ++n;
                    }
                }(server, received));
            for (int i = 0; i < count; ++i)
            {
                const std::string text = std::to_string(i);
                co_await client.send_to(bytes_of(text), server.local_address());
            }
            co_await weft::testing::until([&received] { return received == count; });
            BOOST_TEST(received == count);
        }());
}

BOOST_AUTO_TEST_CASE(bind_rejects_a_unix_address)
{
    BOOST_CHECK_THROW(static_cast<void>(udp_socket::bind(socket_address::unix_path("/tmp/u"))),
                      std::invalid_argument);
}
