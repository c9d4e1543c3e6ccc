// listener and client: Unix, abstract and TCP addresses, a child process as the client, the
// authkey challenge (a wrong key is refused on both sides), a peer that sends garbage before
// authenticating, a silent client dropped at the handshake limit (blocking and coroutine
// accept), and the socket file removed at close.
#define BOOST_TEST_MODULE listener
#define BOOST_TEST_NO_MAIN
#include <atomic>
#include <filesystem>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <sys/socket.h>

#include "../processes/pool_test_support.hpp"
#include "executors/channels/detail/socket_setup.hpp"

using namespace std::chrono_literals;
using weft::connection;
using weft::socket_address;
using weft::start_method;
using weft::test::patience;

namespace
{

void say_hello(socket_address where, std::string key)
{
    connection<std::string> c = weft::client<std::string>(where, key);
    c.send("hello");
    c.send(c.recv() + "!");
}

std::string fresh_socket_path()
{
    return weft::test::fresh_temp_path("weft-listener") + ".sock";
}

// Whether the listener closed a client's connection: its challenge, then the end of file.
bool disconnected_within(int fd, std::chrono::milliseconds limit)
{
    char bytes[512];
    for (const auto until = std::chrono::steady_clock::now() + limit;
         std::chrono::steady_clock::now() < until;)
    {
        pollfd ready{fd, POLLIN, 0};
        if (::poll(&ready, 1, 50) == 1 && ::recv(fd, bytes, sizeof bytes, MSG_DONTWAIT) == 0)
        {
            return true;
        }
    }
    return false;
}

} // namespace

// Every case must leave no descriptor, segment, /dev/shm name or zombie behind.
BOOST_FIXTURE_TEST_SUITE(listener_cases, weft::test::leak_check)

BOOST_AUTO_TEST_CASE(a_child_connects_over_a_unix_socket)
{
    const std::string path = fresh_socket_path();
    {
        weft::listener<std::string> l(socket_address::unix_path(path), "secret");
        BOOST_TEST(std::filesystem::exists(path));
        weft::process child({.start_method = start_method::spawn}, say_hello, l.address(),
                            std::string("secret"));
        child.start();
        connection<std::string> c = l.accept();
        BOOST_TEST(c.recv() == "hello");
        c.send("welcome");
        BOOST_TEST(c.recv() == "welcome!");
        child.join(patience);
        BOOST_TEST(child.exitcode().value_or(-99) == 0);
    }
    BOOST_TEST(!std::filesystem::exists(path)); // removed with the listener
}

BOOST_AUTO_TEST_CASE(tcp_with_a_port_the_system_chose_and_an_abstract_socket)
{
    const std::string abstract = std::string(1, '\0') + "weft-test-" + std::to_string(::getpid());
    for (const socket_address& where :
         {socket_address::parse("127.0.0.1", 0), socket_address::unix_path(abstract)})
    {
        weft::listener<std::string> l(where, "k");
        if (!l.address().is_unix())
        {
            BOOST_TEST(l.address().port() != 0);
        }
        std::thread client([&] { say_hello(l.address(), "k"); });
        connection<std::string> c = l.accept();
        BOOST_TEST(c.recv() == "hello");
        c.send("hi");
        BOOST_TEST(c.recv() == "hi!");
        client.join();
    }
}

BOOST_AUTO_TEST_CASE(a_wrong_key_is_refused_on_both_sides)
{
    weft::listener<std::string> l(socket_address::parse("127.0.0.1", 0), "right key");
    bool client_refused = false;
    std::thread client(
        [&]
        {
            try
            {
                (void)weft::client<std::string>(l.address(), "wrong key");
            }
            catch (const weft::authentication_error&)
            {
                client_refused = true;
            }
        });
    BOOST_CHECK_THROW((void)l.accept(), weft::authentication_error);
    client.join();
    BOOST_TEST(client_refused);
}

BOOST_AUTO_TEST_CASE(garbage_before_authentication_is_refused_without_reading_it)
{
    weft::listener<std::string> l(socket_address::parse("127.0.0.1", 0), "key");
    std::thread rogue(
        [&]
        {
            weft::uring::owned_fd fd = weft::detail::connect_to(l.address());
            // A frame header claiming 1 TiB, then nothing.
            const std::uint64_t header[2] = {std::uint64_t{1} << 40, 0};
            char challenge[512];
            (void)::recv(fd.get(), challenge, sizeof challenge, 0);
            (void)::send(fd.get(), header, sizeof header, MSG_NOSIGNAL);
            std::this_thread::sleep_for(100ms);
        });
    BOOST_CHECK_THROW((void)l.accept(), std::runtime_error); // over the 256-byte cap
    rogue.join();
}

// A peer that connects and says nothing, stops in the middle of a message, or sends a byte
// at a time fails the handshake once its time is up (the manager's server gives each client
// 10 s) instead of holding the thread for as long as it likes.
BOOST_AUTO_TEST_CASE(a_silent_stalled_or_trickling_peer_fails_a_handshake_with_a_deadline)
{
    enum class peer_does
    {
        nothing,
        a_header_without_its_body,
        a_byte_every_20_ms,
    };
    for (const peer_does what :
         {peer_does::nothing, peer_does::a_header_without_its_body, peer_does::a_byte_every_20_ms})
    {
        BOOST_TEST_CONTEXT("case " << static_cast<int>(what))
        {
            int ends[2] = {-1, -1};
            BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
            weft::uring::owned_fd peer(ends[1]);
            connection<std::string> server(weft::uring::owned_fd{ends[0]}, true, true);
            // A frame header: u64 body length 200, u64 descriptors and reserved (none).
            const std::uint64_t header[2] = {200, 0};
            if (what == peer_does::a_header_without_its_body)
            {
                BOOST_REQUIRE(::send(peer.get(), header, sizeof header, MSG_NOSIGNAL) ==
                              sizeof header);
            }
            std::atomic<bool> stop{false};
            std::thread trickle(
                [&]
                {
                    if (what != peer_does::a_byte_every_20_ms)
                    {
                        return;
                    }
                    const auto* bytes = reinterpret_cast<const char*>(header);
                    for (std::size_t i = 0; i < sizeof header + 200 && !stop.load(); ++i)
                    {
                        const char byte = i < sizeof header ? bytes[i] : 'x';
                        if (::send(peer.get(), &byte, 1, MSG_NOSIGNAL) != 1)
                        {
                            return;
                        }
                        std::this_thread::sleep_for(20ms);
                    }
                });
            const auto started = std::chrono::steady_clock::now();
            BOOST_CHECK_THROW(server.authenticate(true, "key", 300ms), weft::authentication_error);
            const auto took = std::chrono::steady_clock::now() - started;
            stop = true;
            trickle.join();
            BOOST_TEST(took >= 300ms);
            // The trickle alone would take 4.3 s: a deadline read only between reads misses it.
            BOOST_TEST(took < 2s);
            BOOST_TEST(server.closed());
        }
    }
}

BOOST_AUTO_TEST_CASE(async_accept_and_async_client_run_the_handshake_through_the_loop)
{
    weft::listener<std::string> l(socket_address::parse("127.0.0.1", 0), "key");
    weft::event_loop loop;
    int ticks = 0;
    auto ticker = [&]() -> weft::task<void>
    {
        for (int i = 0; i < 3; ++i)
        {
            co_await weft::sleep_for(std::chrono::milliseconds(5));
            ++ticks;
        }
    };
    auto serve = [&]() -> weft::task<std::string>
    {
        connection<std::string> c = co_await l.async_accept();
        std::string got = co_await c.async_recv();
        co_return got;
    };
    auto talk = [&]() -> weft::task<void>
    {
        connection<std::string> c = co_await weft::async_client<std::string>(l.address(), "key");
        co_await c.async_send("through the loop");
    };
    auto body = [&]() -> weft::task<std::string>
    {
        loop.spawn(ticker());
        auto [got, done] = co_await weft::when_all(serve(), talk());
        (void)done;
        co_return got;
    };
    BOOST_TEST(loop.run(body()) == "through the loop");
    // and a wrong key through the loop is refused on both sides
    auto refused = [&]() -> weft::task<int>
    {
        int refusals = 0;
        auto accept_one = [&]() -> weft::task<void>
        {
            try
            {
                (void)co_await l.async_accept();
            }
            catch (const weft::authentication_error&)
            {
                ++refusals;
            }
        };
        auto wrong = [&]() -> weft::task<void>
        {
            try
            {
                (void)co_await weft::async_client<std::string>(l.address(), "other");
            }
            catch (const weft::authentication_error&)
            {
                ++refusals;
            }
        };
        co_await weft::when_all(accept_one(), wrong());
        co_return refusals;
    };
    BOOST_TEST(loop.run(refused()) == 2);
}

// Without a limit a client that connects and says nothing holds accept() for ever; with one it
// is disconnected when its time is up and accept() serves the next client rather than throw
// (a server looping on accept() must not be ended by one silent client either).
BOOST_AUTO_TEST_CASE(a_silent_client_does_not_hold_accept_from_the_next_one)
{
    weft::listener<std::string> l(socket_address::parse("127.0.0.1", 0), "key",
                                  {.handshake_limit = 200ms});
    // Connected (queued in the backlog) before the good client, so it is accepted first.
    const weft::uring::owned_fd silent = weft::detail::connect_to(l.address());
    std::thread good([&] { say_hello(l.address(), "key"); });
    const auto started = std::chrono::steady_clock::now();
    connection<std::string> c = l.accept();
    const auto took = std::chrono::steady_clock::now() - started;
    BOOST_TEST(c.recv() == "hello");
    c.send("next");
    BOOST_TEST(c.recv() == "next!");
    good.join();
    BOOST_TEST(took >= 200ms);
    BOOST_TEST(took < patience);
    BOOST_TEST(disconnected_within(silent.get(), 5s));
}

BOOST_AUTO_TEST_CASE(a_silent_client_does_not_hold_async_accept_nor_the_loop)
{
    weft::listener<std::string> l(socket_address::parse("127.0.0.1", 0), "key",
                                  {.handshake_limit = 200ms});
    const weft::uring::owned_fd silent = weft::detail::connect_to(l.address());
    weft::event_loop loop;
    int ticks = 0;
    auto ticker = [&]() -> weft::task<void>
    {
        for (int i = 0; i < 10; ++i)
        {
            co_await weft::sleep_for(10ms);
            ++ticks;
        }
    };
    int ticks_at_accept = -1;
    auto serve = [&]() -> weft::task<std::string>
    {
        connection<std::string> c = co_await l.async_accept();
        ticks_at_accept = ticks;
        co_return co_await c.async_recv();
    };
    auto talk = [&]() -> weft::task<void>
    {
        connection<std::string> c = co_await weft::async_client<std::string>(l.address(), "key");
        co_await c.async_send("after the silent one");
    };
    auto body = [&]() -> weft::task<std::string>
    {
        auto [got, done, ticked] = co_await weft::when_all(serve(), talk(), ticker());
        (void)done;
        (void)ticked;
        co_return got;
    };
    const auto started = std::chrono::steady_clock::now();
    BOOST_TEST(loop.run(body()) == "after the silent one");
    const auto took = std::chrono::steady_clock::now() - started;
    BOOST_TEST(took >= 200ms);
    // The ticker (10 ms sleeps) ran during the 200 ms the silent client was given: a
    // handshake that blocked the loop's thread would have left it at 0.
    BOOST_TEST(ticks_at_accept >= 1);
    BOOST_TEST(ticks == 10);
    BOOST_TEST(disconnected_within(silent.get(), 5s));
}

// A coroutine's handshake under a limit fails as the blocking one does: authentication_error,
// the connection closed.
BOOST_AUTO_TEST_CASE(async_authenticate_with_a_limit_fails_a_silent_peer_in_time)
{
    int ends[2] = {-1, -1};
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
    const weft::uring::owned_fd peer(ends[1]);
    connection<std::string> server(weft::uring::owned_fd{ends[0]}, true, true);
    weft::event_loop loop;
    auto handshake = [&]() -> weft::task<bool>
    {
        try
        {
            co_await server.async_authenticate(true, "key", 150ms);
        }
        catch (const weft::authentication_error&)
        {
            co_return true;
        }
        co_return false;
    };
    const auto started = std::chrono::steady_clock::now();
    BOOST_TEST(loop.run(handshake()));
    const auto took = std::chrono::steady_clock::now() - started;
    BOOST_TEST(took >= 150ms);
    BOOST_TEST(took < 2s);
    BOOST_TEST(server.closed());
}

// A server that accepts and never answers (or never accepts: the kernel completes the connect
// from the backlog) holds a client only as long as its handshake limit.
BOOST_AUTO_TEST_CASE(a_client_with_a_limit_gives_up_on_a_server_that_never_answers)
{
    // A plain listening socket: connections complete in its backlog, nobody ever answers.
    weft::listener<std::string> never_accepts(socket_address::parse("127.0.0.1", 0), "key");
    auto started = std::chrono::steady_clock::now();
    BOOST_CHECK_THROW((void)weft::client<std::string>(never_accepts.address(), "key", 150ms),
                      weft::authentication_error);
    auto took = std::chrono::steady_clock::now() - started;
    BOOST_TEST(took >= 150ms);
    BOOST_TEST(took < patience);

    weft::event_loop loop;
    auto attempt = [&]() -> weft::task<bool>
    {
        try
        {
            (void)co_await weft::async_client<std::string>(never_accepts.address(), "key", 150ms);
        }
        catch (const weft::authentication_error&)
        {
            co_return true;
        }
        co_return false;
    };
    started = std::chrono::steady_clock::now();
    BOOST_TEST(loop.run(attempt()));
    took = std::chrono::steady_clock::now() - started;
    BOOST_TEST(took >= 150ms);
    BOOST_TEST(took < patience);
}

BOOST_AUTO_TEST_CASE(shared_memory_over_tcp_is_refused_before_anything_is_written)
{
    using shared_int = weft::shared_value<int>;
    weft::listener<shared_int> l(socket_address::parse("127.0.0.1", 0), "key");
    std::string first;
    std::jthread peer( // joined, after `c` closes, even when a check throws
        [&]
        {
            try
            {
                connection<shared_int> c = weft::client<shared_int>(l.address(), "key");
                first = c.recv_bytes();
            }
            catch (const std::exception& e)
            {
                first = e.what();
            }
        });
    connection<shared_int> c = l.accept();
    shared_int v(1);
    const auto names_unix_domain = [](const std::invalid_argument& e) {
        return std::string(e.what()).find("only over a Unix-domain connection") !=
               std::string::npos;
    };
    BOOST_CHECK_EXCEPTION(c.send(v), std::invalid_argument, names_unix_domain);
    weft::event_loop loop;
    auto async_send = [&]() -> weft::task<bool>
    {
        try
        {
            co_await c.async_send(v);
        }
        catch (const std::invalid_argument& e)
        {
            co_return names_unix_domain(e);
        }
        co_return false;
    };
    BOOST_TEST(loop.run(async_send()));
    // Nothing of either went out: the peer's first message is the next one.
    c.send_bytes("still usable");
    peer.join();
    BOOST_TEST(first == "still usable");
}

BOOST_AUTO_TEST_CASE(connecting_where_nobody_listens_is_an_error)
{
    BOOST_CHECK_THROW((void)weft::client<int>(socket_address::unix_path(fresh_socket_path()), "k"),
                      std::system_error);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    weft::test::start_forkserver(); // its socket stays open: opened before any case counts
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
