// Where the time of a cold round trip goes, beside the sleeping futex floor: for each side of
// submit(trivial).result() and of a futex ping-pong, the CPU time it spends per trip.
//
//   wall       the round trip
//   first      until submit() returned (the floor: until its FUTEX_WAKE returned)
//   caller     CPU time of the calling thread during the trip (CLOCK_THREAD_CPUTIME_ID)
//   peer       CPU time of the worker (the floor's child) per trip, read from
//              /proc/PID/schedstat between trips, so it includes work the peer does after
//              the caller has its answer (a worker's deferred look at the collector)
//
// The caller runs on CPU 0; the one worker and the floor's child on WORKER_CPU (0: the same
// CPU, where process_pool misses its target). Pool and floor trips alternate one for one, each
// after a 2 ms pause (process_pool's cold trips), so both see the same stretch of a noisy
// machine. Medians; no time is asserted. The difference between caller + peer and wall is time
// in neither process (the scheduler's switches, or both waiting).
//
// Run: build/bench/cold_trip_anatomy [TRIPS [WORKER_CPU [METHOD]]]
//      defaults 200 0 forkserver; about 1 s.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include "bench/support/bench_support.hpp"
#include "bench/support/futex_partner.hpp"
#include "bench/support/start_methods.hpp"

namespace
{

int trivial(int x)
{
    return x + 1;
}

int worker_pid(int)
{
    return static_cast<int>(::getpid());
}

void pin_worker(int cpu)
{
    bench::pin(cpu);
}

std::int64_t thread_cpu_ns()
{
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Time a single-threaded process has run, ns (the first field of /proc/PID/schedstat).
std::int64_t runtime_ns(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
    std::int64_t ns = 0;
    in >> ns;
    return ns;
}

struct samples
{
    std::vector<double> wall, first, caller, peer;
    std::int64_t peer_before = -1;
};

// One trip: `hand_over` starts it, `await_answer` ends it. Microseconds.
template <class HandOver, class Await>
void trip(samples& s, pid_t peer, HandOver hand_over, Await await_answer)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const std::int64_t peer_now = runtime_ns(peer);
    if (s.peer_before >= 0)
    {
        s.peer.push_back(static_cast<double>(peer_now - s.peer_before) / 1e3);
    }
    // From one trip's start to the next: the peer's work after the answer counts too.
    s.peer_before = peer_now;
    const std::int64_t cpu0 = thread_cpu_ns();
    const auto t0 = bench::now_ns();
    auto pending = hand_over();
    const auto t1 = bench::now_ns();
    await_answer(pending);
    const auto t2 = bench::now_ns();
    const std::int64_t cpu1 = thread_cpu_ns();
    s.wall.push_back(static_cast<double>(t2 - t0) / 1e3);
    s.first.push_back(static_cast<double>(t1 - t0) / 1e3);
    s.caller.push_back(static_cast<double>(cpu1 - cpu0) / 1e3);
}

} // namespace

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const int trips = argc > 1 ? std::atoi(argv[1]) : 200;
    const int worker_cpu = argc > 2 ? std::atoi(argv[2]) : 0;
    std::vector<weft::start_method> methods;
    if (trips < 2 || worker_cpu < 0 ||
        worker_cpu >= static_cast<int>(std::thread::hardware_concurrency()) ||
        !bench::parse_methods(argc > 3 ? argv[3] : "forkserver", methods) || methods.size() != 1)
    {
        std::fprintf(stderr, "usage: cold_trip_anatomy [TRIPS [WORKER_CPU [METHOD]]]: TRIPS >= 2, "
                             "WORKER_CPU a CPU of this machine, METHOD fork, spawn or "
                             "forkserver\n");
        return 2;
    }
    bench::pin(0);
    weft::process_pool_executor pool(
        {.max_workers = 1,
         .start_method = methods[0],
         .initializer = weft::worker_initializer(pin_worker, worker_cpu)});
    const pid_t worker = pool.submit(worker_pid, 0).result();
    bench::futex_partner floor(false, worker_cpu);
    floor.hand_over();
    floor.await_answer();
    samples pool_side;
    samples floor_side;
    auto pool_trip = [&](int i)
    {
        trip(
            pool_side, worker, [&] { return pool.submit(trivial, i); },
            [](weft::future<int>& f) { (void)f.result(); });
    };
    auto floor_trip = [&]
    {
        trip(
            floor_side, floor.pid(),
            [&]
            {
                floor.hand_over();
                return 0;
            },
            [&](int) { floor.await_answer(); });
    };
    bench::interleave(trips, pool_trip, floor_trip);
    std::printf("cold_trip_anatomy: %d trips each, caller on CPU 0, worker and floor child on CPU "
                "%d, %s; medians in us\n",
                trips, worker_cpu, weft::to_string(methods[0]));
    std::printf("%-6s %8s %8s %8s %8s\n", "", "wall", "first", "caller", "peer");
    auto row = [](const char* name, const samples& s)
    {
        std::printf("%-6s %8.1f %8.1f %8.1f %8.1f\n", name, bench::median(s.wall),
                    bench::median(s.first), bench::median(s.caller), bench::median(s.peer));
    };
    row("pool", pool_side);
    row("floor", floor_side);
    std::printf("%-6s %8.2f %8.2f %8.2f %8.2f\n", "ratio",
                bench::median(pool_side.wall) / bench::median(floor_side.wall),
                bench::median(pool_side.first) / bench::median(floor_side.first),
                bench::median(pool_side.caller) / bench::median(floor_side.caller),
                bench::median(pool_side.peer) / bench::median(floor_side.peer));
    return 0;
}
