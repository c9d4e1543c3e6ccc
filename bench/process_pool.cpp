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

// The word counts turns: even is the parent's, odd the child's. `pause`: between rounds.
double futex_floor(bool spin, int rounds,
                   std::chrono::microseconds pause = std::chrono::microseconds(0))
{
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
    return median(samples);
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
    for (const auto method :
         {weft::start_method::fork, weft::start_method::spawn, weft::start_method::forkserver})
    {
        const auto t0 = bench::now_ns();
        weft::process_pool_executor pool({.max_workers = 2, .start_method = method});
        const double startup_ms = static_cast<double>(bench::now_ns() - t0) / 1e6;
        (void)pool.submit(trivial, 0).result(); // both sides warm
        std::vector<double> cold;
        for (int i = 0; i < 200; ++i)
        {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            const auto start = bench::now_ns();
            (void)pool.submit(trivial, i).result();
            cold.push_back(static_cast<double>(bench::now_ns() - start) / 1e3);
        }
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
                    weft::to_string(method), startup_ms, median(cold), median(warm),
                    count / seconds, sum);
    }
    return 0;
}
