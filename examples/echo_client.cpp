// echo_client: a load generator for echo_server. C connections run concurrently on one event
// loop, each doing R round trips of B bytes (send B bytes, wait until all B come back), and the
// client reports throughput and the latency distribution of single round trips.
//
//   build/examples/echo_client [--host 127.0.0.1] [--port 7777] [--conns 50]
//                              [--roundtrips 1000] [--size 64]
// prints exactly one line, for example
//   roundtrips_per_s=41234 p50_us=1180.2 p99_us=2315.7
// (--roundtrips counts per connection). Any connection error or corrupted echo is reported on
// stderr and the exit status is 1.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>
#include <weft/weft.hpp>

namespace
{

using clock_type = std::chrono::steady_clock;

struct options
{
    std::string host = "127.0.0.1";
    std::uint16_t port = 7777;
    int conns = 50;
    int roundtrips = 1000;
    std::size_t size = 64;
};

[[noreturn]] void usage(const char* why)
{
    std::fprintf(stderr,
                 "echo_client: %s\nusage: echo_client [--host ADDRESS] [--port N] [--conns C] "
                 "[--roundtrips R] [--size B]\n",
                 why);
    std::exit(2);
}

long parse_number(std::string_view value, long low, long high, const char* what)
{
    long number = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc{} || end != value.data() + value.size() || number < low || number > high)
    {
        usage(what);
    }
    return number;
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
            opts.port = static_cast<std::uint16_t>(
                parse_number(value, 1, 65535, "--port takes a number from 1 to 65535"));
        }
        else if (arg == "--conns")
        {
            opts.conns = static_cast<int>(
                parse_number(value, 1, 1'000'000, "--conns takes a positive number"));
        }
        else if (arg == "--roundtrips")
        {
            opts.roundtrips = static_cast<int>(
                parse_number(value, 1, 1'000'000'000, "--roundtrips takes a positive number"));
        }
        else if (arg == "--size")
        {
            opts.size = static_cast<std::size_t>(
                parse_number(value, 1, 64L << 20, "--size takes a number from 1 to 64 MiB"));
        }
        else
        {
            usage("unknown option");
        }
    }
    return opts;
}

// One connection: `roundtrips` times, send the payload and read back exactly as many bytes,
// checking them. Appends each round trip's latency in microseconds to `latencies`; yields the
// number of round trips done.
weft::task<int> run_connection(weft::socket_address server, int index, const options& opts,
                               std::vector<float>& latencies)
{
    weft::tcp_stream stream = co_await weft::tcp_stream::connect(server);
    stream.set_nodelay(true);
    std::vector<std::byte> payload(opts.size);
    for (std::size_t i = 0; i < payload.size(); ++i)
    {
        payload[i] = static_cast<std::byte>((static_cast<std::size_t>(index) * 31 + i) & 0xff);
    }
    std::vector<std::byte> echoed(opts.size);
    for (int r = 0; r < opts.roundtrips; ++r)
    {
        const auto start = clock_type::now();
        co_await stream.send_all(payload);
        std::size_t received = 0;
        while (received < echoed.size())
        {
            const std::size_t n = co_await stream.recv(std::span(echoed).subspan(received));
            if (n == 0)
            {
                throw std::runtime_error("the server closed the connection mid-echo");
            }
            received += n;
        }
        latencies.push_back(
            std::chrono::duration<float, std::micro>(clock_type::now() - start).count());
        if (echoed != payload)
        {
            throw std::runtime_error("the echo differs from what was sent");
        }
    }
    co_await stream.shutdown(weft::shutdown_how::write);
    co_await stream.close();
    co_return opts.roundtrips;
}

double percentile(std::vector<float>& values, double fraction)
{
    const auto k = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
    return values[k];
}

weft::task<void> run_load(const options& opts)
{
    const weft::socket_address server = weft::socket_address::parse(opts.host, opts.port);
    std::vector<std::vector<float>> latencies(static_cast<std::size_t>(opts.conns));
    std::vector<weft::task<int>> connections;
    for (int c = 0; c < opts.conns; ++c)
    {
        auto& mine = latencies[static_cast<std::size_t>(c)];
        mine.reserve(static_cast<std::size_t>(opts.roundtrips));
        connections.push_back(run_connection(server, c, opts, mine));
    }
    const auto start = clock_type::now();
    // All connections at once; the first failure cancels the rest and is rethrown here.
    const std::vector<int> done = co_await weft::when_all(std::move(connections));
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    if (std::accumulate(done.begin(), done.end(), 0L) !=
        static_cast<long>(opts.conns) * opts.roundtrips)
    {
        throw std::runtime_error("some connections did not finish their round trips");
    }

    std::vector<float> all;
    all.reserve(static_cast<std::size_t>(opts.conns) * static_cast<std::size_t>(opts.roundtrips));
    for (const auto& per_connection : latencies)
    {
        all.insert(all.end(), per_connection.begin(), per_connection.end());
    }
    const double total = static_cast<double>(all.size());
    const double p50 = percentile(all, 0.50);
    const double p99 = percentile(all, 0.99);
    std::printf("roundtrips_per_s=%.0f p50_us=%.1f p99_us=%.1f\n", total / seconds, p50, p99);
}

} // namespace

int main(int argc, char** argv)
{
    const options opts = parse_arguments(argc, argv);
    try
    {
        weft::event_loop loop;
        loop.run(run_load(opts));
        return 0;
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "echo_client: %s\n", e.what());
        return 1;
    }
}
