// yield_tasks: TASKS tasks (default 100,000), each yielding YIELDS times (default 10) with
// co_await weft::yield(), against the same job in Python's asyncio (bench/yield_tasks.py,
// asyncio.sleep(0)) run by this program in the same run. Target: weft >= 100x faster than
// asyncio and <= 256 bytes per task.
//
// Three sides, ROUNDS rounds each (default 3), interleaved, each in a fresh process:
//   bare     floor: bare C++20 coroutines on a std::deque run queue (no loop, no I/O)
//   weft     event_loop::spawn of every task, a root task awaiting the last one
//   asyncio  python3 yield_tasks.py TASKS YIELDS (create_task + gather)
// Time runs from the first spawn to the last task's end. A task step is one run of a task by
// its scheduler: YIELDS + 1 per task. Bytes per task is the peak RSS growth over TASKS.
//
// Run: build-bench/bench/yield_tasks [TASKS [YIELDS [ROUNDS [PATH/TO/yield_tasks.py]]]]
// (python3 must be in PATH; the script path defaults to the one next to this source.)

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include "bench/support/bare_task.hpp"
#include "bench/support/bench_support.hpp"
#include "bench/support/run_command.hpp"

#ifndef WEFT_YIELD_TASKS_PY
#define WEFT_YIELD_TASKS_PY "bench/yield_tasks.py"
#endif

namespace
{

struct result
{
    double seconds;
    double bytes_per_task;
};

// ---- weft ----

weft::task<void> weft_worker(std::size_t yields, bench::countdown& done)
{
    for (std::size_t i = 0; i < yields; ++i)
    {
        co_await weft::yield();
    }
    if (const auto waiter = done.arrive())
    {
        weft::event_loop::current()->schedule(waiter);
    }
}

weft::task<void> weft_root(std::size_t tasks, std::size_t yields)
{
    auto& loop = *weft::event_loop::current();
    bench::countdown done(tasks);
    for (std::size_t i = 0; i < tasks; ++i)
    {
        loop.spawn(weft_worker(yields, done));
    }
    co_await done.wait();
}

result run_weft(std::size_t tasks, std::size_t yields)
{
    weft::event_loop loop;
    const std::int64_t rss_before = bench::peak_rss_bytes();
    const std::int64_t start = bench::now_ns();
    loop.run(weft_root(tasks, yields));
    const std::int64_t end = bench::now_ns();
    return {static_cast<double>(end - start) / 1e9,
            static_cast<double>(bench::peak_rss_bytes() - rss_before) / static_cast<double>(tasks)};
}

// ---- bare floor ----

std::deque<std::coroutine_handle<>> g_ready;

struct bare_yield
{
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const { g_ready.push_back(h); }
    void await_resume() const noexcept {}
};

bench::bare::task<void> bare_worker(std::size_t yields)
{
    for (std::size_t i = 0; i < yields; ++i)
    {
        co_await bare_yield{};
    }
}

result run_bare(std::size_t tasks, std::size_t yields)
{
    const std::int64_t rss_before = bench::peak_rss_bytes();
    const std::int64_t start = bench::now_ns();
    std::vector<bench::bare::task<void>> owned;
    owned.reserve(tasks);
    for (std::size_t i = 0; i < tasks; ++i)
    {
        owned.push_back(bare_worker(yields));
        g_ready.push_back(owned.back().handle());
    }
    while (!g_ready.empty())
    {
        const std::coroutine_handle<> h = g_ready.front();
        g_ready.pop_front();
        h.resume();
    }
    owned.clear();
    const std::int64_t end = bench::now_ns();
    return {static_cast<double>(end - start) / 1e9,
            static_cast<double>(bench::peak_rss_bytes() - rss_before) / static_cast<double>(tasks)};
}

// ---- asyncio ----

result run_asyncio(const std::string& script, std::size_t tasks, std::size_t yields)
{
    const std::string command =
        "python3 '" + script + "' " + std::to_string(tasks) + " " + std::to_string(yields);
    result r{-1.0, -1.0};
    bool parsed = false;
    const int status =
        bench::run_command(command, bench::echo::off,
                           [&](const char* line)
                           {
                               if (std::sscanf(line, "seconds=%lf bytes_per_task=%lf", &r.seconds,
                                               &r.bytes_per_task) == 2)
                               {
                                   parsed = true;
                               }
                           });
    if (status == -1)
    {
        std::perror("popen");
        std::exit(1);
    }
    if (!parsed || status != 0)
    {
        std::fprintf(stderr, "yield_tasks: `%s` failed (status %d)\n", command.c_str(), status);
        std::exit(1);
    }
    return r;
}

} // namespace

int main(int argc, char** argv)
{
    const long tasks_arg = argc > 1 ? std::atol(argv[1]) : 100'000;
    const long yields_arg = argc > 2 ? std::atol(argv[2]) : 10;
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
    const std::string script = argc > 4 ? argv[4] : WEFT_YIELD_TASKS_PY;
    if (tasks_arg < 1 || yields_arg < 0 || rounds < 1)
    {
        std::fprintf(stderr, "usage: %s [TASKS [YIELDS [ROUNDS [SCRIPT]]]]\n", argv[0]);
        return 2;
    }
    const auto tasks = static_cast<std::size_t>(tasks_arg);
    const auto yields = static_cast<std::size_t>(yields_arg);

    std::vector<double> seconds[3];
    std::vector<double> bytes[3];
    const auto record = [&](int side, const result& r)
    {
        seconds[side].push_back(r.seconds);
        bytes[side].push_back(r.bytes_per_task);
    };
    for (int i = 0; i < rounds; ++i)
    {
        // Rotate the order so that drift in this noisy VM hits every side alike.
        for (int k = 0; k < 3; ++k)
        {
            switch ((i + k) % 3)
            {
            case 0:
                record(0, bench::run_in_child<result>([&] { return run_bare(tasks, yields); }));
                break;
            case 1:
                record(1, bench::run_in_child<result>([&] { return run_weft(tasks, yields); }));
                break;
            default:
                record(2, run_asyncio(script, tasks, yields));
                break;
            }
        }
    }

    const double steps = static_cast<double>(tasks) * static_cast<double>(yields + 1);
    const char* names[3] = {"bare floor", "weft", "asyncio"};
    std::printf("yield_tasks: %zu tasks x %zu yields (%.0f task steps); median of %d rounds, "
                "interleaved, each in a fresh process\n\n",
                tasks, yields, steps, rounds);
    std::printf("%-12s %12s %14s %16s\n", "side", "seconds", "us per step", "bytes per task");
    double med_seconds[3];
    double med_bytes[3];
    for (int side = 0; side < 3; ++side)
    {
        med_seconds[side] = bench::median(seconds[side]);
        med_bytes[side] = bench::median(bytes[side]);
        std::printf("%-12s %12.4f %14.4f %16.1f\n", names[side], med_seconds[side],
                    med_seconds[side] * 1e6 / steps, med_bytes[side]);
    }
    const double speedup = med_seconds[2] / med_seconds[1];
    std::printf("\nasyncio/weft time: %.1fx (target >= 100x: %s)\n", speedup,
                speedup >= 100.0 ? "met" : "MISSED");
    std::printf("weft/bare time:    %.2fx\n", med_seconds[1] / med_seconds[0]);
    std::printf("weft bytes per task: %.1f (target <= 256: %s); asyncio/weft memory: %.1fx\n",
                med_bytes[1], med_bytes[1] <= 256.0 ? "met" : "MISSED",
                med_bytes[2] / med_bytes[1]);
    return 0;
}
