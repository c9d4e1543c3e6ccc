#define BOOST_TEST_MODULE ipv6_loopback
// TCP and UDP over ::1. A separate program from the IPv4 tests so that a machine without IPv6
// skips exactly these (exit code 77, reported by meson as SKIP) instead of passing them.
#include <array>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "net_support.hpp"
#include "support/run_task.hpp"

using weft::socket_address;
using weft::task;
using weft::tcp_listener;
using weft::tcp_stream;
using weft::udp_socket;
using weft::testing::bytes_of;
using weft::testing::recv_exactly;
using weft::testing::run_task;
using weft::testing::text_of;

namespace
{

struct require_ipv6_loopback
{
    require_ipv6_loopback()
    {
        if (!weft::testing::ipv6_loopback_available())
        {
            std::puts("SKIP: cannot bind to ::1 (no IPv6 loopback here)");
            std::fflush(stdout);
            std::_Exit(77);
        }
    }
};

} // namespace

BOOST_TEST_GLOBAL_FIXTURE(require_ipv6_loopback);

BOOST_AUTO_TEST_CASE(tcp_echo_round_trip_over_ipv6)
{
    run_task(
        []() -> task<void>
        {
            tcp_listener listener = tcp_listener::bind("::1", 0);
            BOOST_TEST(listener.local_address().is_ipv6());
            weft::testing::spawn(weft::testing::serve_echo(listener, 1));
            tcp_stream client = co_await tcp_stream::connect(listener.local_address());
            BOOST_TEST(client.peer_address().to_string() ==
                       "[::1]:" + std::to_string(listener.local_address().port()));
            co_await client.send_all("six six six");
            BOOST_TEST(co_await recv_exactly(client, 11) == "six six six");
        }());
}

BOOST_AUTO_TEST_CASE(accepted_peer_address_is_the_ipv6_loopback)
{
    run_task(
        []() -> task<void>
        {
            const tcp_listener listener = tcp_listener::bind(socket_address::parse("[::1]:0"));
            tcp_stream client = co_await tcp_stream::connect(listener.local_address());
            tcp_stream accepted = co_await listener.accept();
            BOOST_TEST(accepted.peer_address().host() == "::1");
            BOOST_TEST(accepted.peer_address() == client.local_address());
        }());
}

BOOST_AUTO_TEST_CASE(udp_round_trip_over_ipv6)
{
    run_task(
        []() -> task<void>
        {
            const udp_socket server = udp_socket::bind("::1", 0);
            const udp_socket client = udp_socket::bind("::1", 0);
            co_await client.send_to(bytes_of("v6"), server.local_address());
            std::array<std::byte, 16> buffer{};
            const udp_socket::datagram received = co_await server.recv_from(buffer);
            BOOST_TEST(text_of(std::span(buffer).first(received.size)) == "v6");
            BOOST_TEST(received.source.is_ipv6());
            BOOST_TEST(received.source == client.local_address());
        }());
}
