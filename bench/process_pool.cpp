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
// Medians of the round trips (µs); Python's ProcessPoolExecutor (FLOORS.md): 420-800 µs per
// round trip, 2.2-5k tasks/s.
//
// Run: build/bench/process_pool [COUNT]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "bench/support/bench_support.hpp"

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

} // namespace

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const int count = argc > 1 ? std::atoi(argv[1]) : 100'000;
    std::printf("process_pool: round trips in us (median), throughput in tasks/s\n");
    std::printf("floor-sleep %8.1f us\n", futex_floor(false, 2000));
    std::printf("floor-spin  %8.2f us\n", futex_floor(true, 20000));
    std::printf("floor-cold  %8.1f us\n", futex_floor(false, 200, std::chrono::milliseconds(2)));
    const int cross_cpu = std::thread::hardware_concurrency() > 1 ? 1 : 0;
    const double floor_same = futex_floor(false, 200, std::chrono::milliseconds(2), 0, 0);
    const double floor_cross = futex_floor(false, 200, std::chrono::milliseconds(2), 0, cross_cpu);
    std::printf("floor-cold same %6.1f us  cross %6.1f us\n", floor_same, floor_cross);
    for (const auto method :
         {weft::start_method::fork, weft::start_method::spawn, weft::start_method::forkserver})
    {
        const auto t0 = bench::now_ns();
        weft::process_pool_executor pool({.max_workers = 2, .start_method = method});
        const double startup_ms = static_cast<double>(bench::now_ns() - t0) / 1e6;
        const double cold = cold_trips(pool);
        std::vector<double> warm;
        for (int i = 0; i < 20'000; ++i)
        {
            const auto start = bench::now_ns();
            (void)pool.submit(trivial, i).result();
            warm.push_back(static_cast<double>(bench::now_ns() - start) / 1e3);
        }
        const auto start = bench::now_ns();
        std::vector<weft::future<int>> futures;
        futures.reserve(static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i)
        {
            futures.push_back(pool.submit(trivial, i));
        }
        long long sum = 0;
        for (auto& f : futures)
        {
            sum += f.result();
        }
        const double seconds = static_cast<double>(bench::now_ns() - start) / 1e9;
        std::printf("%-10s start(2 workers) %7.2f ms  cold %8.1f us  warm %7.2f us  throughput "
                    "%9.0f tasks/s (check %lld)\n",
                    weft::to_string(method), startup_ms, cold, median(warm), count / seconds, sum);
        const double same = pinned_cold_trips(method, 0);
        const double cross = pinned_cold_trips(method, cross_cpu);
        std::printf("%-10s cold same %6.1f us (%.2fx floor)  cross %6.1f us (%.2fx floor)\n",
                    weft::to_string(method), same, same / floor_same, cross, cross / floor_cross);
    }
    return 0;
}
