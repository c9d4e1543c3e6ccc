// process_pool: process_pool_executor's transport, per start method, against a raw
// two-process futex ping-pong measured in the same run.
//
//   floor-sleep  a shared futex word bounced between two processes, each side sleeping in
//                FUTEX_WAIT: the cost of one wake-up each way (FLOORS.md: ~100-240 µs here)
//   floor-spin   the same with both sides spinning: the memory round trip
//   floor-cold   floor-sleep with the cold round trip's 2 ms pauses: both sides sleep long
//                enough for their CPUs to go idle, which makes each wake-up dearer in a VM
//   cold         submit(trivial).result() with 2 ms pauses between calls, so the worker and
//                the pool's collector have gone to sleep
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
//      forkserver, or "all"; SCRIPT "-" skips Python. About 5 s for weft and 22 s for Python
//      (all three methods) on the 2-core VM.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "bench/support/bench_support.hpp"
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

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected)
{
    ::syscall(SYS_futex, word, FUTEX_WAIT, expected, nullptr, nullptr, 0);
}
void futex_wake(std::atomic<std::uint32_t>* word)
{
    ::syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

void pin_worker(int cpu)
{
    bench::pin(cpu);
}

// The word counts turns: even is the parent's, odd the child's. `pause`: between rounds.
// Parent and child on `parent_cpu` / `child_cpu` (-1: anywhere).
double futex_floor(bool spin, int rounds,
                   std::chrono::microseconds pause = std::chrono::microseconds(0),
                   int parent_cpu = -1, int child_cpu = -1)
{
    bench::pin(parent_cpu);
    void* shared = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    auto* word = new (shared) std::atomic<std::uint32_t>(0);
    auto await_turn = [&](std::uint32_t turn)
    {
        for (;;)
        {
            const std::uint32_t now = word->load();
            if (now == turn)
            {
                return;
            }
            if (!spin)
            {
                futex_wait(word, now);
            }
        }
    };
    const pid_t child = ::fork();
    if (child == 0)
    {
        bench::pin(child_cpu);
        for (std::uint32_t i = 0; i < static_cast<std::uint32_t>(rounds); ++i)
        {
            await_turn(2 * i + 1);
            word->store(2 * i + 2);
            futex_wake(word);
        }
        ::_exit(0);
    }
    std::vector<double> samples;
    for (std::uint32_t i = 0; i < static_cast<std::uint32_t>(rounds); ++i)
    {
        if (pause.count() > 0)
        {
            std::this_thread::sleep_for(pause);
        }
        const auto start = bench::now_ns();
        word->store(2 * i + 1);
        futex_wake(word);
        await_turn(2 * i + 2);
        samples.push_back(static_cast<double>(bench::now_ns() - start) / 1e3);
    }
    ::waitpid(child, nullptr, 0);
    ::munmap(shared, 4096);
    bench::pin(-1);
    return median(samples);
}

// submit(trivial).result() after 2 ms pauses: the median, us.
double cold_trips(weft::process_pool_executor& pool)
{
    (void)pool.submit(trivial, 0).result(); // both sides warm
    std::vector<double> cold;
    for (int i = 0; i < 200; ++i)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        const auto start = bench::now_ns();
        (void)pool.submit(trivial, i).result();
        cold.push_back(static_cast<double>(bench::now_ns() - start) / 1e3);
    }
    return median(cold);
}

// cold_trips with the caller on CPU 0 and the workers on `worker_cpu`.
double pinned_cold_trips(weft::start_method method, int worker_cpu)
{
    bench::pin(0);
    double us = 0;
    {
        weft::process_pool_executor pool(
            {.max_workers = 2,
             .start_method = method,
             .initializer = weft::worker_initializer(pin_worker, worker_cpu)});
        us = cold_trips(pool);
    }
    bench::pin(-1);
    return us;
}

struct weft_row
{
    weft::start_method method;
    double cold = 0, warm = 0, tasks_per_s = 0, same = 0, cross = 0;
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
    const double floor_cold = futex_floor(false, 200, std::chrono::milliseconds(2));
    std::printf("floor-cold  %8.1f us\n", floor_cold);
    const int cross_cpu = std::thread::hardware_concurrency() > 1 ? 1 : 0;
    const double floor_same = futex_floor(false, 200, std::chrono::milliseconds(2), 0, 0);
    const double floor_cross = futex_floor(false, 200, std::chrono::milliseconds(2), 0, cross_cpu);
    std::printf("floor-cold same %6.1f us  cross %6.1f us\n", floor_same, floor_cross);
    std::vector<weft_row> rows;
    bool correct = true;
    for (const auto method : methods)
    {
        weft_row row{.method = method};
        const auto t0 = bench::now_ns();
        std::optional<weft::process_pool_executor> pool(
            std::in_place,
            weft::process_pool_executor::options{.max_workers = 2, .start_method = method});
        const double startup_ms = static_cast<double>(bench::now_ns() - t0) / 1e6;
        row.cold = cold_trips(*pool);
        std::vector<double> warm;
        for (int i = 0; i < 20'000; ++i)
        {
            const auto start = bench::now_ns();
            (void)pool->submit(trivial, i).result();
            warm.push_back(static_cast<double>(bench::now_ns() - start) / 1e3);
        }
        row.warm = median(warm);
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
        std::printf("%-10s start(2 workers) %7.2f ms  cold %8.1f us  warm %7.2f us  throughput "
                    "%9.0f tasks/s (check %lld%s)\n",
                    weft::to_string(method), startup_ms, row.cold, row.warm, row.tasks_per_s, sum,
                    sum == expected ? "" : " MISMATCH");
        futures.clear();
        pool.reset();
        row.same = pinned_cold_trips(method, 0);
        row.cross = pinned_cold_trips(method, cross_cpu);
        std::printf("%-10s cold same %6.1f us (%.2fx floor)  cross %6.1f us (%.2fx floor)\n",
                    weft::to_string(method), row.same, row.same / floor_same, row.cross,
                    row.cross / floor_cross);
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
                const double cold_faster = p.cold / w.cold;
                const double warm_faster = p.warm / w.warm;
                const double throughput = w.tasks_per_s / p.tasks_per_s;
                std::printf("%-10s %10.4f %7.1fx %-6s %10.4f %7.1fx %-6s %11.1fx %-6s\n",
                            p.method.c_str(), w.cold / p.cold, cold_faster,
                            verdict(cold_faster >= 3), w.warm / p.warm, warm_faster,
                            verdict(w.warm <= 10 && warm_faster >= 40), throughput,
                            verdict(throughput >= 100));
            }
        }
    }

    std::printf("\ncold / floor-cold, same run; target <= 1.5x (unpinned; caller and workers "
                "pinned to one CPU; across CPUs)\n");
    std::printf("%-10s %10s %-6s %10s %-6s %10s %-6s\n", "method", "unpinned", "target", "same",
                "target", "cross", "target");
    for (const weft_row& w : rows)
    {
        const double unpinned = w.cold / floor_cold;
        const double same = w.same / floor_same;
        const double cross = w.cross / floor_cross;
        std::printf("%-10s %9.2fx %-6s %9.2fx %-6s %9.2fx %-6s\n", weft::to_string(w.method),
                    unpinned, verdict(unpinned <= 1.5), same, verdict(same <= 1.5), cross,
                    verdict(cross <= 1.5));
    }
    std::printf("check: %s\n", correct ? "every sum is n(n+1)/2" : "SUM MISMATCH");
    return correct ? 0 : 1;
}
