#define BOOST_TEST_MODULE tcp_listener
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <fcntl.h>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <system_error>

#include "net_support.hpp"
#include "support/run_task.hpp"

using namespace std::chrono_literals;
using weft::socket_address;
using weft::task;
using weft::tcp_listener;
using weft::tcp_stream;
using weft::testing::recv_exactly;
using weft::testing::run_task;
using weft::testing::spawn;

namespace
{

task<tcp_stream> accept_from(const tcp_listener& listener)
{
    co_return co_await listener.accept();
}

task<void> stop_after(std::stop_source& source, std::chrono::milliseconds delay)
{
    co_await weft::sleep_for(delay);
    source.request_stop();
}

int bind_error(const socket_address& address, const tcp_listener::options& opts)
{
    try
    {
        const tcp_listener second = tcp_listener::bind(address, opts);
    }
    catch (const std::system_error& e)
    {
        return e.code().value();
    }
    return 0;
}

} // namespace

BOOST_AUTO_TEST_CASE(port_zero_binds_a_free_port_that_local_address_reports)
{
    const tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
    const socket_address bound = listener.local_address();
    BOOST_TEST(bound.is_ipv4());
    BOOST_TEST(bound.host() == "127.0.0.1");
    BOOST_TEST(bound.port() != 0);
    BOOST_TEST((::fcntl(listener.native_handle(), F_GETFL) & O_NONBLOCK) != 0);
    BOOST_TEST((::fcntl(listener.native_handle(), F_GETFD) & FD_CLOEXEC) != 0);
}

BOOST_AUTO_TEST_CASE(accept_yields_each_connection_as_a_stream)
{
    run_task(
        []() -> task<void>
        {
            const tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            tcp_stream first = co_await tcp_stream::connect(listener.local_address());
            tcp_stream second = co_await tcp_stream::connect(listener.local_address());
            tcp_stream accepted_first = co_await listener.accept();
            tcp_stream accepted_second = co_await listener.accept();
            BOOST_TEST(accepted_first.peer_address() == first.local_address());
            BOOST_TEST(accepted_second.peer_address() == second.local_address());
            co_await accepted_second.send_all("two");
            BOOST_TEST(co_await recv_exactly(second, 3) == "two");
        }());
}

BOOST_AUTO_TEST_CASE(accept_waits_for_a_connection_that_comes_later)
{
    run_task(
        []() -> task<void>
        {
            const tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            spawn(
                [](socket_address address) -> task<void>
                {
                    co_await weft::sleep_for(20ms);
                    tcp_stream client = co_await tcp_stream::connect(address);
                    co_await client.send_all("late");
                }(listener.local_address()));
            tcp_stream accepted = co_await listener.accept();
            BOOST_TEST(co_await recv_exactly(accepted, 4) == "late");
        }());
}

BOOST_AUTO_TEST_CASE(accept_cancelled_by_its_stop_token_throws_and_the_listener_stays_usable)
{
    run_task(
        []() -> task<void>
        {
            const tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            std::stop_source source;
            spawn(stop_after(source, 20ms));
            bool cancelled = false;
            try
            {
                co_await weft::with_stop_token(source.get_token(), accept_from(listener));
            }
            catch (const weft::operation_cancelled&)
            {
                cancelled = true;
            }
            BOOST_TEST(cancelled);
            // The cancelled accept took nothing: the next connection goes to the next accept.
            tcp_stream client = co_await tcp_stream::connect(listener.local_address());
            tcp_stream accepted = co_await listener.accept();
            BOOST_TEST(accepted.peer_address() == client.local_address());
        }());
}

BOOST_AUTO_TEST_CASE(accept_under_with_timeout_throws_timeout_error)
{
    run_task(
        []() -> task<void>
        {
            const tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            bool timed_out = false;
            try
            {
                co_await weft::with_timeout(20ms, listener.accept());
            }
            catch (const weft::timeout_error&)
            {
                timed_out = true;
            }
            BOOST_TEST(timed_out);
        }());
}

BOOST_AUTO_TEST_CASE(binding_a_port_that_is_listened_on_throws_eaddrinuse)
{
    const tcp_listener first = tcp_listener::bind("127.0.0.1", 0);
    BOOST_TEST(bind_error(first.local_address(), {}) == EADDRINUSE);
}

BOOST_AUTO_TEST_CASE(reuse_port_lets_two_listeners_share_a_port)
{
    const tcp_listener first =
        tcp_listener::bind(socket_address::parse("127.0.0.1", 0), {.reuse_port = true});
    const tcp_listener second = tcp_listener::bind(first.local_address(), {.reuse_port = true});
    BOOST_TEST(second.local_address() == first.local_address());
}

BOOST_AUTO_TEST_CASE(connecting_after_close_is_refused)
{
    run_task(
        []() -> task<void>
        {
            tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
            const socket_address address = listener.local_address();
            co_await listener.close();
            BOOST_TEST(!listener.is_open());
            int error = 0;
            try
            {
                co_await tcp_stream::connect(address);
            }
            catch (const std::system_error& e)
            {
                error = e.code().value();
            }
            BOOST_TEST(error == ECONNREFUSED);
        }());
}

BOOST_AUTO_TEST_CASE(a_stopped_loop_cancels_a_pending_accept)
{
    weft::event_loop loop;
    const auto body = [](weft::event_loop& l) -> task<void>
    {
        const tcp_listener listener = tcp_listener::bind("127.0.0.1", 0);
        spawn(
            [](weft::event_loop& target) -> task<void>
            {
                co_await weft::sleep_for(10ms);
                target.stop();
            }(l));
        co_await listener.accept();
    };
    BOOST_CHECK_THROW(loop.run(weft::with_timeout(10s, body(loop))), weft::operation_cancelled);
}

BOOST_AUTO_TEST_CASE(bind_rejects_a_unix_address)
{
    BOOST_CHECK_THROW(static_cast<void>(tcp_listener::bind(socket_address::unix_path("/tmp/x"))),
                      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(bind_rejects_a_host_name)
{
    BOOST_CHECK_THROW(static_cast<void>(tcp_listener::bind("localhost", 0)), std::invalid_argument);
}
