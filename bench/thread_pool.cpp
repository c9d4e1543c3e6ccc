// thread_pool: thread_pool_executor against its floors and its peers, in one run.
//
// Round trip (submit a no-op, wait for its result), µs each, median of ROUNDS batches:
//   floor-sleep  two threads ping-pong through a futex, both sleeping (the cost of waking a
//                sleeping thread and being woken back)
//   floor-spin   two threads ping-pong through an atomic, both spinning (the cache-line floor)
//   weft-idle    pool.submit(noop).result() after a pause longer than the pool's spin, so the
//                worker sleeps; compared with floor-sleep measured with the same pause
//   weft         pool.submit(noop).result() back to back (the worker spins briefly when idle)
//   co_await     co_await pool.submit(noop) back to back from a coroutine on an event_loop
//   std::async   std::async(std::launch::async, noop).get() (a thread per call in libstdc++)
//   python       concurrent.futures.ThreadPoolExecutor submit(f).result() (thread_pool.py)
// Throughput: TASKS no-op tasks submitted, then every result waited for; tasks/s for weft
// (default max_workers), std::async (TASKS/50 calls, it starts a thread each) and Python
// (TASKS/10 tasks: it is that slow).
//
// Run: build-bench/bench/thread_pool [TASKS [ROUNDS [PATH/TO/thread_pool.py]]]

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include "bench/support/bench_support.hpp"
#include "bench/support/run_command.hpp"
#include "executors/detail/futex.hpp"

#ifndef WEFT_THREAD_POOL_PY
#define WEFT_THREAD_POOL_PY "bench/thread_pool.py"
#endif

namespace
{

constexpr int round_trips = 2000;
constexpr auto idle_pause = std::chrono::microseconds(300);

void noop() {}

// Spins for `d` without sleeping, so that the pause itself does not add a wake-up.
void pause_for(std::chrono::microseconds d)
{
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until)
    {
    }
}

// µs per round trip of a futex ping-pong; `pause` between round trips (not timed) lets the
// peer fall asleep first.
double floor_sleep(std::chrono::microseconds pause)
{
    std::atomic<std::uint32_t> word{0};
    std::jthread peer(
        [&]
        {
            for (int i = 0; i < round_trips; ++i)
            {
                while (word.load() != 1)
                {
                    weft::detail::futex_wait(word, 0, std::nullopt);
                }
                word.store(2);
                weft::detail::futex_wake(word);
            }
        });
    std::int64_t total = 0;
    for (int i = 0; i < round_trips; ++i)
    {
        if (pause.count() > 0)
        {
            pause_for(pause);
        }
        std::int64_t start = bench::now_ns();
        word.store(1);
        weft::detail::futex_wake(word);
        while (word.load() != 2)
        {
            weft::detail::futex_wait(word, 1, std::nullopt);
        }
        total += bench::now_ns() - start;
        word.store(0);
    }
    return static_cast<double>(total) / round_trips / 1e3;
}

double floor_spin()
{
    std::atomic<int> word{0};
    std::jthread peer(
        [&]
        {
            for (int i = 0; i < round_trips; ++i)
            {
                while (word.load(std::memory_order_acquire) != 1)
                {
                    weft::detail::cpu_relax();
                }
                word.store(2, std::memory_order_release);
            }
        });
    std::int64_t start = bench::now_ns();
    for (int i = 0; i < round_trips; ++i)
    {
        word.store(1, std::memory_order_release);
        while (word.load(std::memory_order_acquire) != 2)
        {
            weft::detail::cpu_relax();
        }
        word.store(0, std::memory_order_relaxed);
    }
    return static_cast<double>(bench::now_ns() - start) / round_trips / 1e3;
}

double weft_round_trip(std::chrono::microseconds pause)
{
    weft::thread_pool_executor pool({.max_workers = 1});
    pool.submit(noop).result(); // start the thread outside the timing
    std::int64_t total = 0;
    for (int i = 0; i < round_trips; ++i)
    {
        if (pause.count() > 0)
        {
            pause_for(pause);
        }
        std::int64_t start = bench::now_ns();
        pool.submit(noop).result();
        total += bench::now_ns() - start;
    }
    return static_cast<double>(total) / round_trips / 1e3;
}

double co_await_round_trip()
{
    weft::thread_pool_executor pool({.max_workers = 1});
    pool.submit(noop).result();
    weft::event_loop loop;
    std::int64_t elapsed = loop.run(
        [](weft::thread_pool_executor& p) -> weft::task<std::int64_t>
        {
            std::int64_t start = bench::now_ns();
            for (int i = 0; i < round_trips; ++i)
            {
                co_await p.submit(noop);
            }
            co_return bench::now_ns() - start;
        }(pool));
    return static_cast<double>(elapsed) / round_trips / 1e3;
}

double std_async_round_trip()
{
    constexpr int calls = round_trips / 10;
    std::int64_t start = bench::now_ns();
    for (int i = 0; i < calls; ++i)
    {
        std::async(std::launch::async, noop).get();
    }
    return static_cast<double>(bench::now_ns() - start) / calls / 1e3;
}

double weft_throughput(std::size_t tasks)
{
    weft::thread_pool_executor pool;
    std::vector<weft::future<void>> futures;
    futures.reserve(tasks);
    std::int64_t start = bench::now_ns();
    for (std::size_t i = 0; i < tasks; ++i)
    {
        futures.push_back(pool.submit(noop));
    }
    for (auto& f : futures)
    {
        f.result();
    }
    return static_cast<double>(tasks) / (static_cast<double>(bench::now_ns() - start) / 1e9);
}

double std_async_throughput(std::size_t calls)
{
    std::vector<std::future<void>> futures;
    futures.reserve(calls);
    std::int64_t start = bench::now_ns();
    for (std::size_t i = 0; i < calls; ++i)
    {
        futures.push_back(std::async(std::launch::async, noop));
    }
    for (auto& f : futures)
    {
        f.get();
    }
    return static_cast<double>(calls) / (static_cast<double>(bench::now_ns() - start) / 1e9);
}

struct python_result
{
    double round_trip_us = -1;
    double tasks_per_s = -1;
};

python_result run_python(const std::string& script, std::size_t tasks)
{
    std::string command =
        "python3 '" + script + "' " + std::to_string(tasks) + " " + std::to_string(round_trips);
    python_result r;
    bench::run_command(command, bench::echo::off,
                       [&](const char* line) {
                           std::sscanf(line, "round_trip_us=%lf tasks_per_s=%lf", &r.round_trip_us,
                                       &r.tasks_per_s);
                       });
    return r;
}

} // namespace

int main(int argc, char** argv)
{
    std::size_t tasks = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
    int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
    std::string script = argc > 3 ? argv[3] : WEFT_THREAD_POOL_PY;

    std::printf("thread_pool: %d round trips per measurement, %zu tasks, %d rounds, %u CPUs\n",
                round_trips, tasks, rounds, std::thread::hardware_concurrency());
    std::vector<double> f_sleep, f_idle, f_spin, w_idle, w_busy, w_await, s_async, w_tput, s_tput,
        p_rt, p_tput;
    for (int r = 0; r < rounds; ++r)
    {
        f_sleep.push_back(floor_sleep(std::chrono::microseconds(0)));
        f_idle.push_back(floor_sleep(idle_pause));
        f_spin.push_back(floor_spin());
        w_idle.push_back(weft_round_trip(idle_pause));
        w_busy.push_back(weft_round_trip(std::chrono::microseconds(0)));
        w_await.push_back(co_await_round_trip());
        s_async.push_back(std_async_round_trip());
        w_tput.push_back(weft_throughput(tasks));
        s_tput.push_back(std_async_throughput(tasks / 50));
        python_result py = run_python(script, tasks / 10);
        p_rt.push_back(py.round_trip_us);
        p_tput.push_back(py.tasks_per_s);
        std::printf(
            "round %d: floor-sleep %.2f floor-sleep-idle %.2f floor-spin %.2f weft-idle %.2f "
            "weft %.2f co_await %.2f std::async %.2f python %.2f us; throughput weft "
            "%.0f std::async %.0f python %.0f tasks/s\n",
            r + 1, f_sleep.back(), f_idle.back(), f_spin.back(), w_idle.back(), w_busy.back(),
            w_await.back(), s_async.back(), p_rt.back(), w_tput.back(), s_tput.back(),
            p_tput.back());
    }
    double idle = bench::median(w_idle), floor_idle = bench::median(f_idle);
    std::printf("median round trip (us): floor-sleep %.2f, floor-sleep after a pause %.2f, "
                "floor-spin %.2f, weft idle %.2f (%.2fx floor-sleep after a pause), weft back to "
                "back %.2f, co_await %.2f, std::async %.2f, python %.2f (weft %.1fx faster)\n",
                bench::median(f_sleep), floor_idle, bench::median(f_spin), idle, idle / floor_idle,
                bench::median(w_busy), bench::median(w_await), bench::median(s_async),
                bench::median(p_rt), bench::median(p_rt) / bench::median(w_busy));
    std::printf("median throughput (tasks/s): weft %.0f, std::async %.0f, python %.0f (weft %.1fx "
                "python)\n",
                bench::median(w_tput), bench::median(s_tput), bench::median(p_tput),
                bench::median(w_tput) / bench::median(p_tput));
    return 0;
}
