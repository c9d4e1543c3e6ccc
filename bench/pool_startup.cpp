// pool_startup: what process_pool_executor's life cycle costs, per start method.
//
// Each run, per start method (the methods rotate between runs):
//   construct   the constructor alone: process_pool_executor({.max_workers = W, ...})
//   ready       from the start of the constructor until every worker has answered one trivial
//               task: rounds of W tasks returning getpid() submitted at once (the pool hands
//               each task to the least loaded worker) and gathered, until every pid of
//               worker_pids() has answered (usually one round); the program checks that W
//               distinct pids answered
//   replace     kill -9 one idle worker (a pid from worker_pids()), then:
//                 seen      until worker_pids() lists a pid that was not there (polled every
//                           50 us: the collector has reaped the dead worker and started its
//                           replacement)
//                 answered  until, after that, rounds of W getpid() tasks as above have
//                           come back with one from the new pid: the replacement works
//               both counted from the kill
//   shutdown    the destructor (shutdown(wait = true): every worker told to stop and reaped)
// Medians over RUNS. The first forkserver run also starts the fork server (a spawn of this
// program): its ready time is printed apart as "first".
//
// Then, unless SCRIPT is "-", it runs `python3 SCRIPT WORKERS RUNS` (pool_startup.py: Python's
// ProcessPoolExecutor and Pool, the same WORKERS, construct / ready / shutdown per start method;
// FLOORS.md: Pool start-up with 2 workers, fork 7-20 ms, spawn 107-239 ms) and prints Python ÷
// weft per start method for ready, first ready and shutdown (how many times faster weft is).
// Python has no replacement to time: a killed worker breaks a ProcessPoolExecutor (every later
// submit raises BrokenProcessPool; pool_startup.py checks it), so its recovery is a new pool,
// and the last column compares weft's replacement (replace-answer) with Python's ready time of
// a new ProcessPoolExecutor (its shutdown of the broken one not counted). No target: reported.
//
// Run: build-bench/bench/pool_startup [WORKERS [RUNS [SCRIPT]]]
//      defaults hardware_concurrency 10 bench/pool_startup.py; SCRIPT "-" skips Python. About
//      1 s for weft and 10 s for Python on the 2-core VM.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include "bench/support/bench_support.hpp"
#include "bench/support/run_command.hpp"

#ifndef WEFT_POOL_STARTUP_PY
#define WEFT_POOL_STARTUP_PY "bench/pool_startup.py"
#endif

namespace
{

int worker_pid()
{
    return static_cast<int>(::getpid());
}

double ms_since(std::int64_t start)
{
    return static_cast<double>(bench::now_ns() - start) / 1e6;
}

// Rounds of W getpid() tasks submitted at once and gathered, until every pid in `wanted` has
// answered (a worker that answers fast may take a second task of the same round: the pool
// gives each task to the least loaded worker, and a finished task no longer counts). Returns
// the pids that answered; empty after 10,000 rounds.
std::set<int> answer_all(weft::process_pool_executor& pool, int workers,
                         const std::set<int>& wanted)
{
    std::set<int> pids;
    for (int round = 0; round < 10'000; ++round)
    {
        std::vector<weft::future<int>> futures;
        for (int i = 0; i < workers; ++i)
        {
            futures.push_back(pool.submit(worker_pid));
        }
        for (auto& f : futures)
        {
            pids.insert(f.result());
        }
        if (std::includes(pids.begin(), pids.end(), wanted.begin(), wanted.end()))
        {
            return pids;
        }
    }
    return {};
}

std::set<int> listed(const weft::process_pool_executor& pool)
{
    std::set<int> pids;
    for (const pid_t pid : pool.worker_pids())
    {
        pids.insert(static_cast<int>(pid));
    }
    return pids;
}

struct samples
{
    std::vector<double> construct, ready, seen, answered, shutdown;
    double first_ready = 0;
};

// One life cycle; false (with a message) when a check fails.
bool one_run(weft::start_method method, int workers, samples& out)
{
    const auto t0 = bench::now_ns();
    auto pool = std::make_unique<weft::process_pool_executor>(
        weft::process_pool_executor::options{.max_workers = workers, .start_method = method});
    const double construct = ms_since(t0);
    const std::set<int> before = listed(*pool);
    const std::set<int> answered = answer_all(*pool, workers, before);
    const double ready = ms_since(t0);
    if (static_cast<int>(answered.size()) != workers || answered != before)
    {
        std::fprintf(stderr, "pool_startup: %s: %zu distinct workers answered, %zu listed\n",
                     weft::to_string(method), answered.size(), before.size());
        return false;
    }
    if (out.ready.empty())
    {
        out.first_ready = ready;
    }
    out.construct.push_back(construct);
    out.ready.push_back(ready);

    const int victim = *before.begin();
    const auto killed = bench::now_ns();
    ::kill(victim, SIGKILL);
    int fresh = 0;
    while (fresh == 0)
    {
        for (const int pid : listed(*pool))
        {
            if (before.count(pid) == 0)
            {
                fresh = pid;
            }
        }
        if (fresh == 0)
        {
            if (ms_since(killed) > 30'000)
            {
                std::fprintf(stderr, "pool_startup: %s: no replacement after 30 s\n",
                             weft::to_string(method));
                return false;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }
    out.seen.push_back(ms_since(killed));
    const std::set<int> after = answer_all(*pool, workers, {fresh});
    out.answered.push_back(ms_since(killed));
    if (after.count(fresh) == 0 || after.count(victim) != 0)
    {
        std::fprintf(stderr, "pool_startup: %s: the replacement %d did not answer\n",
                     weft::to_string(method), fresh);
        return false;
    }

    const auto t1 = bench::now_ns();
    pool.reset();
    out.shutdown.push_back(ms_since(t1));
    return true;
}

// One row of pool_startup.py's tables, in ms; `killed`: what a kill -9 did to the executor.
struct python_row
{
    double construct = 0, ready = 0, first = 0, shutdown = 0;
    std::string killed;
};

struct python_rows
{
    std::map<std::string, python_row> ppe, pool;
};

// Runs pool_startup.py, echoes its output and returns its rows, by section and method.
python_rows run_python(const std::string& script, int workers, int runs)
{
    const std::string command =
        "python3 '" + script + "' " + std::to_string(workers) + " " + std::to_string(runs);
    python_rows rows;
    std::map<std::string, python_row>* section = nullptr;
    bench::run_command(command, bench::echo::on,
                       [&](const char* line)
                       {
                           if (std::strncmp(line, "ProcessPoolExecutor ", 20) == 0)
                           {
                               section = &rows.ppe;
                               return;
                           }
                           if (std::strncmp(line, "Pool ", 5) == 0)
                           {
                               section = &rows.pool;
                               return;
                           }
                           char method[32];
                           char killed[64] = "";
                           python_row row;
                           if (section == &rows.ppe &&
                               std::sscanf(line, "%31s %lf %lf %lf %lf %63[^\n]", method,
                                           &row.construct, &row.ready, &row.first, &row.shutdown,
                                           killed) == 6)
                           {
                               row.killed = killed;
                               rows.ppe[method] = row;
                           }
                           else if (section == &rows.pool &&
                                    std::sscanf(line, "%31s %lf %lf %lf", method, &row.construct,
                                                &row.ready, &row.shutdown) == 4)
                           {
                               rows.pool[method] = row;
                           }
                       });
    return rows;
}

} // namespace

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const int workers = argc > 1
                            ? std::atoi(argv[1])
                            : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    const int runs = argc > 2 ? std::atoi(argv[2]) : 10;
    const std::string script = argc > 3 ? argv[3] : WEFT_POOL_STARTUP_PY;
    if (workers < 1 || runs < 1)
    {
        std::fprintf(stderr, "usage: pool_startup [WORKERS [RUNS [SCRIPT]]]: WORKERS, RUNS >= 1, "
                             "SCRIPT - skips Python\n");
        return 2;
    }
    const std::vector<weft::start_method> methods = {
        weft::start_method::fork, weft::start_method::spawn, weft::start_method::forkserver};
    std::map<weft::start_method, samples> results;
    for (int r = 0; r < runs; ++r)
    {
        for (std::size_t i = 0; i < methods.size(); ++i)
        {
            const auto method = methods[(i + static_cast<std::size_t>(r)) % methods.size()];
            if (!one_run(method, workers, results[method]))
            {
                return 1;
            }
        }
    }
    std::printf("pool_startup: process_pool_executor with %d workers, %d runs, medians in ms\n",
                workers, runs);
    std::printf("%-10s %9s %9s %9s %13s %15s %9s\n", "method", "construct", "ready", "(first)",
                "replace-seen", "replace-answer", "shutdown");
    for (const auto method : methods)
    {
        const samples& s = results[method];
        std::printf("%-10s %9.2f %9.2f %9.2f %13.2f %15.2f %9.2f\n", weft::to_string(method),
                    bench::median(s.construct), bench::median(s.ready), s.first_ready,
                    bench::median(s.seen), bench::median(s.answered), bench::median(s.shutdown));
    }
    std::fflush(stdout);
    if (script == "-")
    {
        return 0;
    }

    const python_rows py = run_python(script, workers, runs);
    std::printf("\nPython / weft, same run (times in ms over times in ms: how many times faster "
                "weft is)\n");
    std::printf("%-10s %10s %10s %10s %10s %10s %10s  %s\n", "method", "ready/PPE", "ready/Pool",
                "first/PPE", "shut/PPE", "shut/Pool", "replace", "Python after kill -9");
    for (const auto method : methods)
    {
        const samples& s = results[method];
        const std::string name = weft::to_string(method);
        const auto ppe = py.ppe.find(name);
        const auto pool = py.pool.find(name);
        if (ppe == py.ppe.end() || pool == py.pool.end())
        {
            std::printf("%-10s (no Python row)\n", name.c_str());
            continue;
        }
        // replace: Python's recovery from a killed worker (a new ProcessPoolExecutor until
        // ready) over weft's replacement (kill until the new worker answered).
        std::printf("%-10s %9.1fx %9.1fx %9.1fx %9.1fx %9.1fx %9.1fx  %s\n", name.c_str(),
                    ppe->second.ready / bench::median(s.ready),
                    pool->second.ready / bench::median(s.ready), ppe->second.first / s.first_ready,
                    ppe->second.shutdown / bench::median(s.shutdown),
                    pool->second.shutdown / bench::median(s.shutdown),
                    ppe->second.ready / bench::median(s.answered), ppe->second.killed.c_str());
    }
    std::printf("replace = Python's ProcessPoolExecutor ready (a new pool: its recovery) over "
                "weft's replace-answer\n");
    return 0;
}
