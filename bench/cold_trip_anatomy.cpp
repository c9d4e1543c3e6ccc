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
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <new>
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

void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected)
{
    ::syscall(SYS_futex, word, FUTEX_WAIT, expected, nullptr, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>* word)
{
    ::syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
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

// The floor: a child that answers each turn of a shared futex word (even: ours, odd: its).
class futex_partner
{
  public:
    explicit futex_partner(int cpu)
    {
        void* shared =
            ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shared == MAP_FAILED)
        {
            std::perror("mmap");
            std::exit(1);
        }
        m_word = new (shared) std::atomic<std::uint32_t>(0);
        m_child = ::fork();
        if (m_child == 0)
        {
            bench::pin(cpu);
            for (std::uint32_t turn = 1;; turn += 2)
            {
                await(turn);
                if (m_word->load() == stop)
                {
                    ::_exit(0);
                }
                m_word->store(turn + 1);
                futex_wake(m_word);
            }
        }
    }
    futex_partner(const futex_partner&) = delete;
    futex_partner& operator=(const futex_partner&) = delete;
    ~futex_partner()
    {
        m_word->store(stop);
        futex_wake(m_word);
        ::waitpid(m_child, nullptr, 0);
        ::munmap(m_word, 4096);
    }

    void hand_over()
    {
        m_word->store(m_turn + 1);
        futex_wake(m_word);
    }
    void await_answer()
    {
        await(m_turn + 2);
        m_turn += 2;
    }
    [[nodiscard]] pid_t pid() const noexcept { return m_child; }

  private:
    static constexpr std::uint32_t stop = 0xffff'ffffU;

    void await(std::uint32_t turn)
    {
        for (;;)
        {
            const std::uint32_t now = m_word->load();
            if (now == turn || now == stop)
            {
                return;
            }
            futex_wait(m_word, now);
        }
    }

    std::atomic<std::uint32_t>* m_word = nullptr;
    std::uint32_t m_turn = 0;
    pid_t m_child = -1;
};

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
    futex_partner floor(worker_cpu);
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
    for (int i = 0; i < trips; ++i)
    {
        if (i % 2 == 0)
        {
            pool_trip(i);
            floor_trip();
        }
        else
        {
            floor_trip();
            pool_trip(i);
        }
    }
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
