// uneven_tasks: calls of one function that is usually short, where one call runs long. The
// pool writes calls of a function it timed short many ahead into a worker's ring; the calls
// written behind the long one must not wait for it while other workers idle (the pool takes
// them back: pool_core_rebalancing.cpp). Python's pools, whose workers pull from one queue,
// never hold a call behind another.
//
// Each round, after a warm-up that times the function short: one call busy for LONG_MS, then
// SHORTS calls busy for SHORT_US each, all submitted at once on W workers. Reported per round:
// how long until every short call was done, how long until the long one was, and how many
// short calls ran in the long call's worker after it (they waited for it). Ideal: the short
// calls end after SHORTS x SHORT_US / (W - 1) and none waits. The same rounds run in Python's
// ProcessPoolExecutor and Pool (apply_async) through uneven_tasks.py, unless SCRIPT is `-`.
// No time is asserted; exits 1 if a result is wrong.
//
// Run: build/bench/uneven_tasks [ROUNDS [SHORTS [SHORT_US [LONG_MS [WORKERS [SCRIPT]]]]]]
//      defaults 5 1000 20 300 2 (bench/uneven_tasks.py); forkserver. About 5 s.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include "bench/support/bench_support.hpp"

#ifndef WEFT_UNEVEN_TASKS_PY
#define WEFT_UNEVEN_TASKS_PY "bench/uneven_tasks.py"
#endif

namespace
{

// Busy for `microseconds` (no sleep: a sleeping call would free its CPU for the others).
int busy_then_pid(int microseconds)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(microseconds);
    while (std::chrono::steady_clock::now() < until)
    {
    }
    return static_cast<int>(::getpid());
}

struct round_result
{
    double shorts_ms = 0;
    double long_ms = 0;
    int behind = 0;
};

round_result run_round(weft::process_pool_executor& pool, int shorts, int short_us, int long_ms)
{
    const auto start = bench::now_ns();
    auto longest = pool.submit(busy_then_pid, long_ms * 1000);
    std::vector<weft::future<int>> futures;
    futures.reserve(static_cast<std::size_t>(shorts));
    for (int i = 0; i < shorts; ++i)
    {
        futures.push_back(pool.submit(busy_then_pid, short_us));
    }
    std::vector<int> pids;
    pids.reserve(futures.size());
    for (auto& f : futures)
    {
        pids.push_back(f.result());
    }
    const auto shorts_done = bench::now_ns();
    const int long_pid = longest.result();
    const auto long_done = bench::now_ns();
    round_result r;
    r.shorts_ms = static_cast<double>(shorts_done - start) / 1e6;
    r.long_ms = static_cast<double>(long_done - start) / 1e6;
    for (const int pid : pids)
    {
        r.behind += pid == long_pid ? 1 : 0;
    }
    return r;
}

} // namespace

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
    const int shorts = argc > 2 ? std::atoi(argv[2]) : 1000;
    const int short_us = argc > 3 ? std::atoi(argv[3]) : 20;
    const int long_ms = argc > 4 ? std::atoi(argv[4]) : 300;
    const int workers = argc > 5 ? std::atoi(argv[5]) : 2;
    const std::string script = argc > 6 ? argv[6] : WEFT_UNEVEN_TASKS_PY;
    if (rounds < 1 || shorts < 1 || short_us < 0 || long_ms < 1 || workers < 2)
    {
        std::fprintf(stderr, "usage: uneven_tasks [ROUNDS [SHORTS [SHORT_US [LONG_MS [WORKERS "
                             "[SCRIPT]]]]]]: ROUNDS, SHORTS, LONG_MS >= 1, SHORT_US >= 0, "
                             "WORKERS >= 2\n");
        return 2;
    }
    std::printf("uneven_tasks: 1 call of %d ms then %d of %d us, %d workers, forkserver; ideal: "
                "short calls done after %.1f ms, none behind the long one\n",
                long_ms, shorts, short_us, workers,
                static_cast<double>(shorts) * short_us / 1000.0 / (workers - 1));
    weft::process_pool_executor pool({.max_workers = workers});
    std::vector<weft::future<int>> warm;
    for (int i = 0; i < 2000; ++i)
    {
        warm.push_back(pool.submit(busy_then_pid, short_us));
    }
    for (auto& f : warm)
    {
        (void)f.result();
    }
    std::vector<double> shorts_ms;
    std::vector<double> behind;
    for (int r = 0; r < rounds; ++r)
    {
        const round_result got = run_round(pool, shorts, short_us, long_ms);
        shorts_ms.push_back(got.shorts_ms);
        behind.push_back(got.behind);
        std::printf("weft round %d: short calls done after %8.1f ms, the long one after %8.1f ms, "
                    "%4d short calls waited behind it\n",
                    r + 1, got.shorts_ms, got.long_ms, got.behind);
    }
    std::printf("weft median: short calls done after %.1f ms, %.0f behind the long one\n",
                bench::median(shorts_ms), bench::median(behind));
    std::fflush(stdout);
    if (script != "-")
    {
        const std::string command = "python3 '" + script + "' " + std::to_string(rounds) + " " +
                                    std::to_string(shorts) + " " + std::to_string(short_us) + " " +
                                    std::to_string(long_ms) + " " + std::to_string(workers);
        if (std::system(command.c_str()) != 0)
        {
            std::fprintf(stderr, "uneven_tasks: %s failed\n", command.c_str());
            return 1;
        }
    }
    return 0;
}
