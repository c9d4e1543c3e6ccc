#define BOOST_TEST_MODULE many_connections
// One loop holds tens of thousands of TCP connections open at once, each doing one echo round
// trip: 20,000 on one listening port, then 100,000 spread over eight ports (one port's
// ephemeral range allows about 28,000 connections from one client address). The descriptor
// limit is raised for the test; where it cannot be, those cases are skipped, and a third case
// holds as many connections as the hard limit allows.
//
// To measure where the hard limit is low (RLIMIT_NOFILE can only be raised with
// CAP_SYS_RESOURCE), give a smaller count after `--`:
//   many_connections_test -- --connections 9000
// runs both cases with that many connections and prints their timings.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <sys/resource.h>

#include "net_support.hpp"
#include "support/run_task.hpp"

using namespace std::chrono_literals;
using weft::socket_address;
using weft::task;
using weft::tcp_listener;
using weft::tcp_stream;
using weft::testing::spawn;
using weft::testing::until;

namespace
{

constexpr int default_small_run = 20'000;
constexpr int default_large_run = 100'000;

// Set from `-- --connections N`: replaces both counts, for measuring under a low limit.
int connections_override = 0;

int small_run()
{
    return connections_override > 0 ? connections_override : default_small_run;
}

int large_run()
{
    return connections_override > 0 ? connections_override : default_large_run;
}

void read_arguments()
{
    const auto& suite = boost::unit_test::framework::master_test_suite();
    for (int i = 1; i + 1 < suite.argc; ++i)
    {
        if (std::string_view(suite.argv[i]) == "--connections")
        {
            connections_override = std::atoi(suite.argv[i + 1]);
        }
    }
}

bool raise_descriptor_limit(rlim_t wanted)
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    {
        return false;
    }
    if (limit.rlim_cur >= wanted)
    {
        return true;
    }
    limit.rlim_cur = wanted;
    // Raising the hard limit needs CAP_SYS_RESOURCE and stops at fs.nr_open.
    limit.rlim_max = std::max(limit.rlim_max, wanted);
    return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

// Each connection costs two descriptors (client and server end) in this one process, plus a
// few for the ring, the listeners and stdio.
rlim_t descriptors_for(int connections)
{
    return static_cast<rlim_t>(2 * connections + 64);
}

// Precondition of the fixed-size cases: a case whose descriptors cannot be had is reported as
// skipped, never passed.
struct enough_descriptors_for
{
    int (*connections)();
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id /*unit*/) const
    {
        read_arguments();
        const rlim_t needed = descriptors_for(connections());
        if (raise_descriptor_limit(needed))
        {
            return true;
        }
        boost::test_tools::assertion_result result(false);
        result.message() << "cannot raise RLIMIT_NOFILE to " << needed
                         << " (raising the hard limit needs CAP_SYS_RESOURCE)";
        return result;
    }
};

// The most connections the hard descriptor limit allows, so that every machine runs a real
// many-connection case even where the fixed-size ones are skipped.
int connections_the_limit_allows()
{
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    raise_descriptor_limit(limit.rlim_max);
    const rlim_t usable = std::min<rlim_t>(limit.rlim_max, descriptors_for(default_large_run));
    return static_cast<int>((usable - 64) / 2);
}

constexpr std::size_t message_size = 16;

std::string message_for(int index)
{
    char text[message_size + 1] = {};
    std::snprintf(text, sizeof text, "conn %09d\n", index);
    return std::string(text, message_size);
}

struct run_state
{
    int echoed = 0;
    int served = 0;
    int errors = 0;
    std::string first_error;
    std::vector<tcp_stream> held;

    void fail(const std::string& what)
    {
        if (errors++ == 0)
        {
            first_error = what;
        }
    }
};

std::string describe(std::exception_ptr error)
{
    try
    {
        std::rethrow_exception(error);
    }
    catch (const std::exception& e)
    {
        return e.what();
    }
    catch (...)
    {
        return "unknown exception";
    }
}

// The server end: echo one message, then wait for the client to close.
task<void> serve_one(tcp_stream stream, run_state& state)
{
    try
    {
        const std::string message = co_await weft::testing::recv_exactly(stream, message_size);
        co_await stream.send_all(message);
        std::array<std::byte, 16> buffer{};
        if (co_await stream.recv(buffer) != 0)
        {
            state.fail("server: unexpected data after the echo");
        }
        ++state.served;
    }
    catch (...)
    {
        state.fail("server: " + describe(std::current_exception()));
    }
}

task<void> accept_loop(const tcp_listener& listener, int& remaining, run_state& state)
{
    while (remaining > 0)
    {
        --remaining;
        try
        {
            spawn(serve_one(co_await listener.accept(), state));
        }
        catch (const weft::operation_cancelled&)
        {
            throw;
        }
        catch (...)
        {
            state.fail("accept: " + describe(std::current_exception()));
        }
    }
}

// Connects, echoes once and keeps the connection open; `step` chains run side by side, so at
// most `step` connections are ever waiting in a listen queue (far below its backlog).
task<void> client_chain(const std::vector<socket_address>& targets, int first, int step, int total,
                        run_state& state)
{
    for (int i = first; i < total; i += step)
    {
        try
        {
            tcp_stream stream = co_await tcp_stream::connect(targets[i % targets.size()]);
            const std::string message = message_for(i);
            co_await stream.send_all(message);
            if (co_await weft::testing::recv_exactly(stream, message_size) != message)
            {
                state.fail("client: echo differs for connection " + std::to_string(i));
                continue;
            }
            state.held.push_back(std::move(stream));
            ++state.echoed;
        }
        catch (const weft::operation_cancelled&)
        {
            throw;
        }
        catch (...)
        {
            state.fail("client: " + describe(std::current_exception()));
        }
    }
}

std::size_t open_descriptors()
{
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    {
        ++count;
    }
    return count;
}

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

task<void> hold_connections(int total, int ports)
{
    constexpr int chains = 512;
    constexpr int acceptors_per_port = 4;
    const auto start = std::chrono::steady_clock::now();

    std::vector<tcp_listener> listeners;
    std::vector<socket_address> targets;
    std::vector<int> to_accept(static_cast<std::size_t>(ports));
    for (int p = 0; p < ports; ++p)
    {
        listeners.push_back(tcp_listener::bind("127.0.0.1", 0));
        targets.push_back(listeners.back().local_address());
        // Connection i goes to port i % ports.
        to_accept[static_cast<std::size_t>(p)] = total / ports + (p < total % ports ? 1 : 0);
    }
    run_state state;
    state.held.reserve(static_cast<std::size_t>(total));
    for (int p = 0; p < ports; ++p)
    {
        for (int a = 0; a < acceptors_per_port; ++a)
        {
            spawn(accept_loop(listeners[static_cast<std::size_t>(p)],
                              to_accept[static_cast<std::size_t>(p)], state));
        }
    }
    for (int c = 0; c < chains; ++c)
    {
        spawn(client_chain(targets, c, chains, total, state));
    }
    co_await until([&state, total] { return state.echoed + state.errors >= total; });
    const double connected = seconds_since(start);

    BOOST_TEST(state.errors == 0, "first error: " << state.first_error);
    BOOST_TEST(state.echoed == total);
    BOOST_TEST(state.held.size() == static_cast<std::size_t>(total));
    // Both ends of every connection are open at this moment.
    const std::size_t descriptors = open_descriptors();
    BOOST_TEST(descriptors >= 2 * static_cast<std::size_t>(total));

    const auto closing = std::chrono::steady_clock::now();
    state.held.clear();
    co_await until([&state, total] { return state.served + state.errors >= total; });
    BOOST_TEST(state.served == total);
    BOOST_TEST(state.errors == 0, "first error: " << state.first_error);

    std::printf("%d connections over %d port(s): connect + echo %.2f s, close %.2f s, "
                "total %.2f s (%zu descriptors open at the peak)\n",
                total, ports, connected, seconds_since(closing), seconds_since(start), descriptors);
    std::fflush(stdout);
}

} // namespace

BOOST_AUTO_TEST_CASE(as_many_connections_as_the_descriptor_limit_allows_each_echo_once)
{
    const int connections = connections_the_limit_allows();
    BOOST_TEST_MESSAGE("connections: " << connections);
    BOOST_REQUIRE(connections >= 1000);
    weft::testing::run_task(hold_connections(connections, (connections + 19'999) / 20'000), 120s);
}

BOOST_AUTO_TEST_CASE(twenty_thousand_connections_on_one_port_each_echo_once,
                     *boost::unit_test::precondition(enough_descriptors_for{&small_run}))
{
    weft::testing::run_task(hold_connections(small_run(), 1), 60s);
}

BOOST_AUTO_TEST_CASE(hundred_thousand_connections_over_eight_ports_each_echo_once,
                     *boost::unit_test::precondition(enough_descriptors_for{&large_run}))
{
    weft::testing::run_task(hold_connections(large_run(), 8), 120s);
}
