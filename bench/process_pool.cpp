// process_pool: process_pool_executor's transport, per start method, against a raw
// two-process futex ping-pong measured in the same run.
//
//   floor-sleep  a shared futex word bounced between two processes, each side sleeping in
//                FUTEX_WAIT: the cost of one wake-up each way (FLOORS.md: ~100-240 µs here)
//   floor-spin   the same with both sides spinning: the memory round trip
//   cold         submit(trivial).result() with 2 ms pauses between calls, so the worker and
//                the pool's collector have gone to sleep
//   floor-cold   floor-sleep with the same 2 ms pauses: both sides sleep long enough for
//                their CPUs to go idle, which makes each wake-up dearer in a VM. Measured
//                interleaved with cold, one round trip for one, per start method: the VM's
//                wake-up cost drifts by 2-3x from one second to the next, and two medians
//                taken a few seconds apart compared that drift more than the pool
//   cold same / cross, floor-cold same / cross: the same with the caller (and the floor's
//                parent) on CPU 0 and the workers (the floor's child) on CPU 0 or CPU 1. An
//                unpinned pair is bimodal on a 2-CPU VM (FLOORS.md 1): a same-CPU wake-up
//                costs ~6 us, a cross-CPU one ~25-50 us, and which one a run gets decides
//                the unpinned ratio more than the pool does
//   warm         submit(trivial).result() back to back
//   throughput   submit COUNT trivial calls, then gather them: tasks/s
// Medians of the round trips (µs).
//
// Then, unless SCRIPT is "-", it runs `python3 SCRIPT PY_COUNT METHODS` (process_pool.py: the
// same cold, warm and throughput figures for ProcessPoolExecutor(2) with the same start
// methods, cold with the same 2 ms pauses) and prints weft ÷ Python per start method against
// the targets: cold >= 3x faster than Python, back to back <= 10 us and >= 40x faster than
// Python, throughput >= 100x Python's (tasks/s over tasks/s: weft submits COUNT, Python
// PY_COUNT, because Python manages only 2-20k tasks/s). Last, the floor target: cold <= 1.5x
// floor-cold (unpinned, and pinned the same way as the floor: same CPU, across CPUs). Every
// ratio is of figures measured in this one run; no time is asserted.
//
// Run: build-bench/bench/process_pool [COUNT [METHODS [SCRIPT [PY_COUNT]]]]
//      defaults 100000 all bench/process_pool.py 50000; METHODS: a comma list of fork, spawn,
//      forkserver, or "all"; SCRIPT "-" skips Python. About 9 s for weft and 22 s for Python
//      (all three methods) on the 2-core VM.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include "bench/support/bench_support.hpp"
#include "bench/support/futex_partner.hpp"
#include "bench/support/run_command.hpp"
#include "bench/support/start_methods.hpp"

#ifndef WEFT_PROCESS_POOL_PY
#define WEFT_PROCESS_POOL_PY "bench/process_pool.py"
#endif

namespace
{

int trivial(int x)
{
    return x + 1;
}

void pin_worker(int cpu)
{
    bench::pin(cpu);
}

// Median round trip of the futex floor, back to back (us).
double futex_floor(bool spin, int rounds)
{
    bench::futex_partner partner(spin, -1);
    std::vector<double> samples;
    for (int i = 0; i < rounds; ++i)
    {
        samples.push_back(partner.round_trip());
    }
    return bench::median(samples);
}

struct cold_figures
{
    double pool = 0;  // submit(trivial).result(), median us
    double floor = 0; // the sleeping futex floor, median us
};

// Cold round trips: submit(trivial).result() and the floor's round trip, each after a 2 ms
// pause (long enough for the CPUs involved to go idle, which makes a wake-up dearer in a VM),
// interleaved one for one, first one then the other, so that both medians come from the same
// stretch of a noisy machine. The floor's child runs on `floor_cpu` (-1: anywhere).
cold_figures cold_trips(weft::process_pool_executor& pool, int floor_cpu)
{
    (void)pool.submit(trivial, 0).result(); // both sides warm
    bench::futex_partner partner(false, floor_cpu);
    (void)partner.round_trip();
    std::vector<double> cold;
    std::vector<double> floor;
    auto pool_trip = [&](int i)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        const auto start = bench::now_ns();
        (void)pool.submit(trivial, i).result();
        cold.push_back(static_cast<double>(bench::now_ns() - start) / 1e3);
    };
    auto floor_trip = [&]
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        floor.push_back(partner.round_trip());
    };
    bench::interleave(200, pool_trip, floor_trip);
    return {bench::median(cold), bench::median(floor)};
}

// cold_trips with the caller (and the floor's parent) on CPU 0 and the workers (and the
// floor's child) on `worker_cpu`.
cold_figures pinned_cold_trips(weft::start_method method, int worker_cpu)
{
    bench::pin(0);
    cold_figures figures;
    {
        weft::process_pool_executor pool(
            {.max_workers = 2,
             .start_method = method,
             .initializer = weft::worker_initializer(pin_worker, worker_cpu)});
        figures = cold_trips(pool, worker_cpu);
    }
    bench::pin(-1);
    return figures;
}

struct weft_row
{
    weft::start_method method;
    double warm = 0, tasks_per_s = 0;
    cold_figures cold, same, cross; // unpinned, same CPU, across CPUs
};

struct python_row
{
    std::string method;
    double cold = 0, warm = 0, tasks_per_s = 0;
    long long count = 0;
};

// Runs process_pool.py, echoes its output, and returns its rows.
std::vector<python_row> run_python(const std::string& script, int count, const std::string& methods)
{
    const std::string command = "python3 '" + script + "' " + std::to_string(count) + " " + methods;
    std::vector<python_row> rows;
    bench::run_command(command, bench::echo::on,
                       [&](const char* line)
                       {
                           char method[32];
                           python_row row;
                           if (std::sscanf(line, "%31s %lf %lf %lf %lld", method, &row.cold,
                                           &row.warm, &row.tasks_per_s, &row.count) == 5)
                           {
                               row.method = method;
                               rows.push_back(row);
                           }
                       });
    return rows;
}

const char* verdict(bool met)
{
    return met ? "met" : "MISSED";
}

} // namespace

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const int count = argc > 1 ? std::atoi(argv[1]) : 100'000;
    const std::string methods_arg = argc > 2 ? argv[2] : "all";
    const std::string script = argc > 3 ? argv[3] : WEFT_PROCESS_POOL_PY;
    const int py_count = argc > 4 ? std::atoi(argv[4]) : 50'000;
    std::vector<weft::start_method> methods;
    if (count < 1 || py_count < 1 || !bench::parse_methods(methods_arg, methods))
    {
        std::fprintf(stderr, "usage: process_pool [COUNT [METHODS [SCRIPT [PY_COUNT]]]]: COUNT "
                             ">= 1, METHODS fork,spawn,forkserver or all, SCRIPT - skips Python, "
                             "PY_COUNT >= 1\n");
        return 2;
    }
    std::printf("process_pool: round trips in us (median), throughput in tasks/s\n");
    std::printf("floor-sleep %8.1f us\n", futex_floor(false, 2000));
    std::printf("floor-spin  %8.2f us\n", futex_floor(true, 20000));
    const int cross_cpu = std::thread::hardware_concurrency() > 1 ? 1 : 0;
    std::vector<weft_row> rows;
    bool correct = true;
    for (const auto method : methods)
    {
        weft_row row{
            .method = method, .warm = 0, .tasks_per_s = 0, .cold = {}, .same = {}, .cross = {}};
        const auto t0 = bench::now_ns();
        std::optional<weft::process_pool_executor> pool(
            std::in_place,
            weft::process_pool_executor::options{.max_workers = 2, .start_method = method});
        const double startup_ms = static_cast<double>(bench::now_ns() - t0) / 1e6;
        row.cold = cold_trips(*pool, -1);
        std::vector<double> warm;
        for (int i = 0; i < 20'000; ++i)
        {
            const auto start = bench::now_ns();
            (void)pool->submit(trivial, i).result();
            warm.push_back(static_cast<double>(bench::now_ns() - start) / 1e3);
        }
        row.warm = bench::median(warm);
        const auto start = bench::now_ns();
        std::vector<weft::future<int>> futures;
        futures.reserve(static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i)
        {
            futures.push_back(pool->submit(trivial, i));
        }
        long long sum = 0;
        for (auto& f : futures)
        {
            sum += f.result();
        }
        const double seconds = static_cast<double>(bench::now_ns() - start) / 1e9;
        row.tasks_per_s = count / seconds;
        const long long expected = static_cast<long long>(count) * (count + 1) / 2;
        correct = correct && sum == expected;
        std::printf("%-10s start(2 workers) %7.2f ms  cold %8.1f us (floor %5.1f)  warm %7.2f us  "
                    "throughput %9.0f tasks/s (check %lld%s)\n",
                    weft::to_string(method), startup_ms, row.cold.pool, row.cold.floor, row.warm,
                    row.tasks_per_s, sum, sum == expected ? "" : " MISMATCH");
        futures.clear();
        pool.reset();
        row.same = pinned_cold_trips(method, 0);
        row.cross = pinned_cold_trips(method, cross_cpu);
        std::printf("%-10s cold same %6.1f us (floor %5.1f: %.2fx)  cross %6.1f us (floor %5.1f: "
                    "%.2fx)\n",
                    weft::to_string(method), row.same.pool, row.same.floor,
                    row.same.pool / row.same.floor, row.cross.pool, row.cross.floor,
                    row.cross.pool / row.cross.floor);
        rows.push_back(row);
    }
    std::fflush(stdout);

    if (script != "-")
    {
        const std::vector<python_row> py = run_python(script, py_count, methods_arg);
        std::printf("\nweft / Python, same run (weft throughput over %d tasks, Python's over %d; "
                    "tasks/s compare)\n",
                    count, py_count);
        std::printf("targets: cold >= 3x faster; back to back <= 10 us and >= 40x faster; "
                    "throughput >= 100x\n");
        std::printf("%-10s %10s %8s %-6s %10s %8s %-6s %12s %-6s\n", "method", "cold w/P", "faster",
                    "target", "warm w/P", "faster", "target", "tasks/s w/P", "target");
        for (const weft_row& w : rows)
        {
            for (const python_row& p : py)
            {
                if (p.method != weft::to_string(w.method) || p.cold <= 0 || p.warm <= 0 ||
                    p.tasks_per_s <= 0)
                {
                    continue;
                }
                const double cold_faster = p.cold / w.cold.pool;
                const double warm_faster = p.warm / w.warm;
                const double throughput = w.tasks_per_s / p.tasks_per_s;
                std::printf("%-10s %10.4f %7.1fx %-6s %10.4f %7.1fx %-6s %11.1fx %-6s\n",
                            p.method.c_str(), w.cold.pool / p.cold, cold_faster,
                            verdict(cold_faster >= 3), w.warm / p.warm, warm_faster,
                            verdict(w.warm <= 10 && warm_faster >= 40), throughput,
                            verdict(throughput >= 100));
            }
        }
    }

    std::printf("\ncold / floor-cold, interleaved one for one in the same run; target <= 1.5x "
                "(unpinned; caller and workers pinned to one CPU; across CPUs)\n");
    std::printf("%-10s %10s %-6s %10s %-6s %10s %-6s\n", "method", "unpinned", "target", "same",
                "target", "cross", "target");
    for (const weft_row& w : rows)
    {
        const double unpinned = w.cold.pool / w.cold.floor;
        const double same = w.same.pool / w.same.floor;
        const double cross = w.cross.pool / w.cross.floor;
        std::printf("%-10s %9.2fx %-6s %9.2fx %-6s %9.2fx %-6s\n", weft::to_string(w.method),
                    unpinned, verdict(unpinned <= 1.5), same, verdict(same <= 1.5), cross,
                    verdict(cross <= 1.5));
    }
    std::printf("check: %s\n", correct ? "every sum is n(n+1)/2" : "SUM MISMATCH");
    return correct ? 0 : 1;
}
