// pool_map: map throughput at chunksize 1, 10, 100, 1,000 and 10,000 against Python's
// multiprocessing.Pool.map and concurrent.futures.ProcessPoolExecutor.map, ratios in one run.
//
// The work: inc(x) = x + 1 over the ints 0 .. n-1, so that the pool's own cost per item is all
// that is measured. Two weft sides, each on W = hardware_concurrency() workers:
//   executor.map  process_pool_executor::map(inc, views::iota(0, n), {.chunksize = c,
//                 .window = WINDOW}), the lazy range consumed and summed
//   pool::map     weft::pool::map(inc, views::iota(0, n), c, POOL_WINDOW), the returned vector
//                 summed
// n is N at every chunksize for weft (--full, the default), or, with --reduced, N for chunksize
// >= 100 and N * chunksize / 100 below (N/100 at chunksize 1, N/10 at chunksize 10), as before.
// Python always uses the reduced n: at chunksize 1 it manages a few thousand items/s, and a
// million would take minutes. Every figure is items/s, so the sizes compare; the n columns say
// which was used. Why full is the default: weft's full n costs seconds, not minutes. Measured on
// the 2-core VM, busy with other builds (load average 4.8-6.1), 2026-11-30, weft side only
// (SCRIPT "-"), N 1000000, 3 repeats: forkserver 5.2 s with --full against 0.4 s with
// --reduced; all three methods 18.2 s with --full. That is far below the ~2 minutes that would
// have kept the reduced n as the default; --reduced gives the old sizes back, for comparison
// with earlier runs. (Python's side, run after, is unchanged: ~20 s for forkserver.)
//
// Pools are created (fork first, while the process has no other thread) and warmed before any
// timing: maps of getpid over W items at chunksize 1 until W distinct workers answered. The timed
// region is the map call until the last result is summed. Each repeat runs every chunksize, and
// the sides of a chunksize in rotated order; figures are medians over REPEATS. The sum must be
// n(n+1)/2: the program exits 1 on a mismatch (or on an exception). No time is asserted.
//
// Then, unless SCRIPT is "-", it runs `python3 SCRIPT N REPEATS METHODS` (pool_map.py: the
// reduced n per chunksize, Pool.map and ProcessPoolExecutor.map on os.cpu_count() workers, each
// warmed first) and prints weft ÷ Python per chunksize. Target: >= 20x Pool.map at every
// chunksize.
//
// Run: build-bench/bench/pool_map [--full|--reduced] [N [REPEATS [METHODS [SCRIPT [WINDOW
//      [POOL_WINDOW]]]]]]
//      defaults --full 1000000 3 forkserver bench/pool_map.py 0; METHODS: a comma list of fork,
//      spawn, forkserver, or "all"; WINDOW: executor.map's window in chunks (0: the default, at
//      least two per worker); POOL_WINDOW: pool::map's, 0 (the default) or "eager" (every chunk
//      at once, as Python). About 5 s for weft (15-20 s with "all") and 20 s for Python
//      (forkserver) on the 2-core VM.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <ranges>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include "bench/support/bench_support.hpp"
#include "bench/support/run_command.hpp"
#include "bench/support/start_methods.hpp"

#ifndef WEFT_POOL_MAP_PY
#define WEFT_POOL_MAP_PY "bench/pool_map.py"
#endif

namespace
{

int inc(int x)
{
    return x + 1;
}

int worker_pid(int)
{
    return static_cast<int>(::getpid());
}

constexpr std::size_t chunksizes[] = {1, 10, 100, 1'000, 10'000};
constexpr std::size_t n_chunksizes = sizeof chunksizes / sizeof chunksizes[0];

// Python's n per chunksize, and weft's with --reduced.
std::int64_t reduced_items(std::int64_t n, std::size_t chunksize)
{
    return chunksize >= 100 ? n : n * static_cast<std::int64_t>(chunksize) / 100;
}

struct method_pools
{
    weft::start_method method;
    std::unique_ptr<weft::process_pool_executor> executor;
    std::unique_ptr<weft::pool> pool;
    // [side][chunksize index] -> seconds per repeat; side 0 executor.map, 1 pool::map
    std::vector<double> seconds[2][n_chunksizes];
};

// Maps of getpid over `workers` items at chunksize 1 until `workers` distinct pids answered.
template <class Map>
bool warm(Map map, int workers)
{
    std::set<int> pids;
    for (int round = 0; round < 10'000 && static_cast<int>(pids.size()) < workers; ++round)
    {
        for (int pid : map(std::views::iota(0, workers)))
        {
            pids.insert(pid);
        }
    }
    return static_cast<int>(pids.size()) == workers;
}

struct python_row
{
    std::string method;
    std::size_t chunksize;
    double pool_map;
    double ppe_map;
};

std::vector<python_row> run_python(const std::string& script, std::int64_t n, int repeats,
                                   const std::string& methods)
{
    const std::string command = "python3 '" + script + "' " + std::to_string(n) + " " +
                                std::to_string(repeats) + " " + methods;
    std::vector<python_row> rows;
    bench::run_command(command, bench::echo::on,
                       [&](const char* line)
                       {
                           char method[32];
                           std::size_t chunksize = 0;
                           long long items = 0;
                           double pool_map = 0;
                           double ppe_map = 0;
                           if (std::sscanf(line, "%31s %zu %lld %lf %lf", method, &chunksize,
                                           &items, &pool_map, &ppe_map) == 5)
                           {
                               rows.push_back({method, chunksize, pool_map, ppe_map});
                           }
                       });
    return rows;
}

} // namespace

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    // --full / --reduced anywhere; the rest are positional.
    bool full = true;
    std::vector<const char*> args;
    for (int i = 0; i < argc; ++i)
    {
        if (std::strcmp(argv[i], "--full") == 0 || std::strcmp(argv[i], "--reduced") == 0)
        {
            full = std::strcmp(argv[i], "--full") == 0;
            continue;
        }
        args.push_back(argv[i]);
    }
    const std::size_t n_args = args.size();
    const std::int64_t n = n_args > 1 ? std::atoll(args[1]) : 1'000'000;
    const int repeats = n_args > 2 ? std::atoi(args[2]) : 3;
    const std::string methods_arg = n_args > 3 ? args[3] : "forkserver";
    const std::string script = n_args > 4 ? args[4] : WEFT_POOL_MAP_PY;
    const long long window_arg = n_args > 5 ? std::atoll(args[5]) : 0;
    const std::string pool_window_arg = n_args > 6 ? args[6] : "0";
    const auto items_for = [full](std::int64_t items, std::size_t chunksize)
    { return full ? items : reduced_items(items, chunksize); };
    const bool eager = pool_window_arg == "eager";
    const long long pool_window_number = eager ? 0 : std::atoll(pool_window_arg.c_str());
    std::vector<weft::start_method> methods;
    if (n < 100 || repeats < 1 || window_arg < 0 || pool_window_number < 0 ||
        !bench::parse_methods(methods_arg, methods))
    {
        std::fprintf(stderr,
                     "usage: pool_map [--full|--reduced] [N [REPEATS [METHODS [SCRIPT [WINDOW "
                     "[POOL_WINDOW]]]]]]: N >= 100, REPEATS >= 1, METHODS fork,spawn,forkserver "
                     "or all, WINDOW >= 0, POOL_WINDOW >= 0 or eager\n");
        return 2;
    }
    const std::size_t pool_window =
        eager ? weft::pool::eager_window : static_cast<std::size_t>(pool_window_number);
    const auto window = static_cast<std::size_t>(window_arg);
    const int workers = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));

    std::vector<method_pools> all;
    try
    {
        for (const auto method : methods)
        {
            method_pools p{.method = method, .executor = {}, .pool = {}, .seconds = {}};
            p.executor =
                std::make_unique<weft::process_pool_executor>(weft::process_pool_executor::options{
                    .max_workers = workers, .start_method = method});
            p.pool = std::make_unique<weft::pool>(
                weft::pool::options{.max_workers = workers, .start_method = method});
            auto& executor = *p.executor;
            auto& pool = *p.pool;
            const bool ok =
                warm([&](auto in) { return executor.map(worker_pid, in, {.chunksize = 1}); },
                     workers) &&
                warm([&](auto in) { return pool.map(worker_pid, in, 1); }, workers);
            if (!ok)
            {
                std::fprintf(stderr, "pool_map: %s warm-up did not reach %d workers\n",
                             weft::to_string(method), workers);
                return 1;
            }
            all.push_back(std::move(p));
        }
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "pool_map: start-up failed: %s\n", e.what());
        return 1;
    }

    std::printf("pool_map: inc(int) over iota(0, n), %d workers (hardware_concurrency), %d "
                "repeats, executor.map window %s, pool::map window %s, medians in items/s\n",
                workers, repeats, window == 0 ? "default" : args[5],
                pool_window_arg == "0" ? "default" : pool_window_arg.c_str());
    if (full)
    {
        std::printf("n = %lld at every chunksize (--full; Python's n is smaller at chunksize 1 "
                    "and 10: N*chunksize/100; items/s compare)\n",
                    static_cast<long long>(n));
    }
    else
    {
        std::printf("n = %lld for chunksize >= 100, N*chunksize/100 below (--reduced: the same "
                    "n as Python's; items/s compare)\n",
                    static_cast<long long>(n));
    }
    bool correct = true;
    for (int r = 0; r < repeats; ++r)
    {
        for (std::size_t ci = 0; ci < n_chunksizes; ++ci)
        {
            const std::size_t chunksize = chunksizes[ci];
            const std::int64_t items = items_for(n, chunksize);
            const std::int64_t expected = items * (items + 1) / 2;
            const auto input = std::views::iota(0, static_cast<int>(items));
            const std::size_t sides = 2 * all.size();
            for (std::size_t i = 0; i < sides; ++i)
            {
                const std::size_t s = (i + static_cast<std::size_t>(r) + ci) % sides;
                method_pools& p = all[s / 2];
                const std::size_t side = s % 2;
                std::int64_t sum = 0;
                const auto start = bench::now_ns();
                try
                {
                    if (side == 0)
                    {
                        for (int v : p.executor->map(inc, input,
                                                     {.chunksize = chunksize, .window = window}))
                        {
                            sum += v;
                        }
                    }
                    else
                    {
                        for (int v : p.pool->map(inc, input, chunksize, pool_window))
                        {
                            sum += v;
                        }
                    }
                }
                catch (const std::exception& e)
                {
                    std::fprintf(stderr, "pool_map: %s %s chunksize %zu threw: %s\n",
                                 weft::to_string(p.method),
                                 side == 0 ? "executor.map" : "pool::map", chunksize, e.what());
                    return 1;
                }
                p.seconds[side][ci].push_back(static_cast<double>(bench::now_ns() - start) / 1e9);
                if (sum != expected)
                {
                    std::fprintf(
                        stderr, "pool_map: %s %s chunksize %zu n %lld: sum %lld, expected %lld\n",
                        weft::to_string(p.method), side == 0 ? "executor.map" : "pool::map",
                        chunksize, static_cast<long long>(items), static_cast<long long>(sum),
                        static_cast<long long>(expected));
                    correct = false;
                }
            }
        }
    }

    // weft[method][chunksize index][side] in items/s
    std::vector<std::vector<std::vector<double>>> rate(all.size());
    std::printf("%-10s %9s %9s %14s %14s\n", "method", "chunksize", "n", "executor.map",
                "pool::map");
    for (std::size_t m = 0; m < all.size(); ++m)
    {
        rate[m].resize(n_chunksizes);
        for (std::size_t ci = 0; ci < n_chunksizes; ++ci)
        {
            const auto items = static_cast<double>(items_for(n, chunksizes[ci]));
            for (int side = 0; side < 2; ++side)
            {
                rate[m][ci].push_back(items / bench::median(all[m].seconds[side][ci]));
            }
            std::printf("%-10s %9zu %9lld %14.0f %14.0f\n", weft::to_string(all[m].method),
                        chunksizes[ci], static_cast<long long>(items_for(n, chunksizes[ci])),
                        rate[m][ci][0], rate[m][ci][1]);
        }
    }
    std::printf("check: %s\n", correct ? "every sum is n(n+1)/2" : "SUM MISMATCH");
    // The pools go before Python runs, so that their idle workers are gone.
    for (auto& p : all)
    {
        p.pool.reset();
        p.executor.reset();
    }

    if (script != "-")
    {
        const std::vector<python_row> rows = run_python(script, n, repeats, methods_arg);
        std::printf("\nweft / Python (items/s over items/s; weft's n %s); target >= 20x "
                    "Pool.map\n",
                    full ? "is N at every chunksize, Python's N*chunksize/100 below 100"
                         : "and Python's are the same");
        std::printf("%-10s %9s %15s %15s %15s %15s\n", "method", "chunksize", "pool/Pool.map",
                    "exec/Pool.map", "exec/PPE.map", "pool/PPE.map");
        for (std::size_t m = 0; m < all.size(); ++m)
        {
            for (std::size_t ci = 0; ci < n_chunksizes; ++ci)
            {
                for (const python_row& row : rows)
                {
                    if (row.method != weft::to_string(all[m].method) ||
                        row.chunksize != chunksizes[ci] || row.pool_map <= 0 || row.ppe_map <= 0)
                    {
                        continue;
                    }
                    const double exec = rate[m][ci][0];
                    const double pool = rate[m][ci][1];
                    const bool met = pool / row.pool_map >= 20 && exec / row.pool_map >= 20;
                    std::printf("%-10s %9zu %14.1fx %14.1fx %14.1fx %14.1fx  %s\n",
                                row.method.c_str(), chunksizes[ci], pool / row.pool_map,
                                exec / row.pool_map, exec / row.ppe_map, pool / row.ppe_map,
                                met ? "met" : "MISSED");
                }
            }
        }
    }
    return correct ? 0 : 1;
}
