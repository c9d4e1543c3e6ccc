// shared_value: the interprocess locks and semaphores against their floors and Python's
// multiprocessing, ratios in one run.
//
// 1. Locked increments: each of 2 child processes (weft::process, forkserver) does N increments
//    of one shared int64 counter. Sides:
//      atomic        std::atomic_ref<int64_t>::fetch_add on the counter (the no-lock floor)
//      pthread       a plain PTHREAD_PROCESS_SHARED pthread_mutex_t (default type, not robust)
//                    next to the counter: lock; ++counter; unlock (the lock floor)
//      pthread-rr    the same with a robust, recursive mutex: the bare mutex that
//                    interprocess::rlock wraps (what weft itself costs above glibc)
//      rr+gettid     pthread-rr plus one gettid() system call before each unlock, inside the
//                    critical section: what robust_mutex_state::release() adds (its is_owned()
//                    check asks the kernel for the TID every time); a diagnosis, not a floor
//      weft-rlock    shared_value<int64_t> (its own rlock): { auto held =
//                    v.get_lock().guard(); v.raw() += 1; }
//      weft-lock     shared_value<int64_t, interprocess::lock> (an external, non-recursive lock),
//                    the same loop
//    The children start, say they are ready, and sleep on a shared futex until the parent
//    releases them all at once; each stamps CLOCK_MONOTONIC before and after its loop. Figure:
//    (last end - first start) / 2N, in ns per increment. Every final value must be 2N: the
//    program prints it and exits 1 on a mismatch.
// 2. Semaphore ping-pong, N_PP round trips between the parent and one child, in three
//    placements (a sleeping cross-CPU round trip and a same-CPU one differ ~10x here, and an
//    unpinned pair lands on either): free (unpinned), same (both pinned to CPU 0), cross (the
//    parent on CPU 0, the child on CPU 1):
//      weft          two interprocess::semaphore(0): parent a.release(); b.acquire(), child the
//                    mirror image
//      futex         the floor: two words in shared memory, post = store 1 + FUTEX_WAKE, wait =
//                    exchange(0) until it was 1, FUTEX_WAIT while 0 (no spinning, as neither
//                    weft's semaphore nor Python's sem_wait spins)
//    µs per round trip, the child's start-up excluded (it posts once before the timing).
// 3. Uncontended acquire+release in this process, N_UNC times: std::mutex, the pthread floors
//    and rr+gettid above, interprocess::lock acquire()/release(), interprocess::rlock
//    acquire()/release(), and shared_value's get_lock().guard(). ns per pair.
//
// Each repeat runs every side (in rotated order); figures are medians over REPEATS. Then,
// unless SCRIPT is "-", it runs `python3 SCRIPT N N_PP N_UNC REPEATS` (shared_value.py:
// multiprocessing.Value('q') incremented with `with v.get_lock(): v.value += 1` in 2 forkserver
// processes, two multiprocessing.Semaphore(0) ping-pong, Lock().acquire()/release()) and prints
// the ratios. Target (issue): locked increments >= 10x faster than Python's. No time is asserted.
//
// Run: build/bench/shared_value [N [N_PP [N_UNC [REPEATS [SCRIPT]]]]]
//      defaults 500000 5000 2000000 3 bench/shared_value.py (this source's directory). About
//      16 s in all on the 2-core VM, two thirds of it Python.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <new>
#include <pthread.h>
#include <sched.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
// g++ 12 at -O3 reports a false -Wmaybe-uninitialized inside payload.hpp (the tuple of a
// process target's arguments, std::optional<rlock> in shared_value) for some inlining choices
// in this file; the library's code is not what this benchmark measures.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <weft/weft.hpp>
#pragma GCC diagnostic pop

#include <linux/futex.h>
#include <sys/syscall.h>

#include "bench/support/bench_support.hpp"
#include "bench/support/run_command.hpp"

#ifndef WEFT_SHARED_VALUE_PY
#define WEFT_SHARED_VALUE_PY "bench/shared_value.py"
#endif

namespace
{

using weft::shared_value;
namespace ipc = weft::interprocess;

// Everything the floors and the start/stop bookkeeping share between processes: plain words in
// a RawValue, used through std::atomic_ref, and pthread mutexes placement-made in byte arrays.
struct arena
{
    alignas(64) unsigned char plain_mutex[sizeof(pthread_mutex_t)];
    std::int64_t plain_counter; // next to its mutex, as weft's value is next to its lock
    alignas(64) unsigned char robust_mutex[sizeof(pthread_mutex_t)];
    std::int64_t robust_counter;
    alignas(64) std::int64_t atomic_counter;
    alignas(64) std::uint32_t ready; // children that are about to wait for go
    alignas(64) std::uint32_t go;    // futex word: 1 releases the children
    alignas(64) std::int64_t start_ns[2];
    std::int64_t end_ns[2];
    alignas(64) std::uint32_t ping; // the futex ping-pong floor's words
    alignas(64) std::uint32_t pong;
};

using arena_value = shared_value<arena>;
using value_rlock = shared_value<std::int64_t>;
using value_lock = shared_value<std::int64_t, ipc::lock>;

pthread_mutex_t* mutex_at(unsigned char* bytes)
{
    return std::launder(reinterpret_cast<pthread_mutex_t*>(bytes));
}

bool init_mutex(unsigned char* bytes, bool robust_recursive)
{
    pthread_mutexattr_t attributes;
    ::pthread_mutexattr_init(&attributes);
    bool ok = ::pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED) == 0;
    if (robust_recursive)
    {
        ok = ok && ::pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST) == 0 &&
             ::pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE) == 0;
    }
    ok = ok && ::pthread_mutex_init(::new (bytes) pthread_mutex_t, &attributes) == 0;
    ::pthread_mutexattr_destroy(&attributes);
    return ok;
}

template <class T>
std::atomic_ref<T> word(T& w)
{
    return std::atomic_ref<T>(w);
}

void futex_wait(std::uint32_t& w, std::uint32_t expected)
{
    ::syscall(SYS_futex, &w, FUTEX_WAIT, expected, nullptr, nullptr, 0);
}

void futex_wake(std::uint32_t& w, int count)
{
    ::syscall(SYS_futex, &w, FUTEX_WAKE, count, nullptr, nullptr, 0);
}

// ---- 1. locked increments ------------------------------------------------------------------

enum class inc_side
{
    atomic,
    pthread,
    pthread_rr,
    rr_gettid,
    weft_rlock,
    weft_lock
};
constexpr inc_side inc_sides[] = {inc_side::atomic,    inc_side::pthread,    inc_side::pthread_rr,
                                  inc_side::rr_gettid, inc_side::weft_rlock, inc_side::weft_lock};
constexpr const char* inc_names[] = {"atomic",    "pthread",    "pthread-rr",
                                     "rr+gettid", "weft-rlock", "weft-lock"};
constexpr std::size_t n_inc_sides = sizeof inc_sides / sizeof inc_sides[0];

void increment_child(arena_value shared, value_rlock v, value_lock vl, int side, int slot,
                     std::int64_t n)
{
    arena& a = shared.raw();
    word(a.ready).fetch_add(1);
    while (word(a.go).load() == 0)
    {
        futex_wait(a.go, 0);
    }
    const std::int64_t start = bench::now_ns();
    switch (static_cast<inc_side>(side))
    {
    case inc_side::atomic:
    {
        auto counter = word(a.atomic_counter);
        for (std::int64_t i = 0; i < n; ++i)
        {
            counter.fetch_add(1);
        }
        break;
    }
    case inc_side::pthread:
    case inc_side::pthread_rr:
    case inc_side::rr_gettid:
    {
        const bool rr = static_cast<inc_side>(side) != inc_side::pthread;
        const bool tid = static_cast<inc_side>(side) == inc_side::rr_gettid;
        pthread_mutex_t* m = mutex_at(rr ? a.robust_mutex : a.plain_mutex);
        std::int64_t& counter = rr ? a.robust_counter : a.plain_counter;
        for (std::int64_t i = 0; i < n; ++i)
        {
            if (::pthread_mutex_lock(m) != 0)
            {
                std::_Exit(3);
            }
            counter += 1;
            if (tid && ::gettid() == 0)
            {
                std::_Exit(4);
            }
            ::pthread_mutex_unlock(m);
        }
        break;
    }
    case inc_side::weft_rlock:
        for (std::int64_t i = 0; i < n; ++i)
        {
            auto held = v.get_lock().guard();
            v.raw() += 1;
        }
        break;
    case inc_side::weft_lock:
        for (std::int64_t i = 0; i < n; ++i)
        {
            auto held = vl.get_lock().guard();
            vl.raw() += 1;
        }
        break;
    }
    const std::int64_t end = bench::now_ns();
    word(a.start_ns[slot]).store(start);
    word(a.end_ns[slot]).store(end);
}

// One run of one side: ns per increment, or a negative number on failure. `total` gets the
// final value.
double run_increments(inc_side side, std::int64_t n, std::int64_t& total)
{
    arena_value shared(arena{}, {.lock = false});
    arena& a = shared.raw();
    if (!init_mutex(a.plain_mutex, false) || !init_mutex(a.robust_mutex, true))
    {
        std::fprintf(stderr, "shared_value: pthread_mutex_init failed\n");
        return -1;
    }
    value_rlock v(0);
    value_lock vl(0, ipc::lock());
    std::vector<weft::process> children;
    for (int slot = 0; slot < 2; ++slot)
    {
        children.emplace_back(
            weft::process::options{.start_method = weft::start_method::forkserver}, increment_child,
            shared, v, vl, static_cast<int>(side), slot, n);
    }
    for (auto& c : children)
    {
        c.start();
    }
    while (word(a.ready).load() < 2)
    {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    word(a.go).store(1);
    futex_wake(a.go, INT_MAX);
    bool ok = true;
    for (auto& c : children)
    {
        c.join();
        ok = ok && c.exitcode().value_or(-99) == 0;
    }
    if (!ok)
    {
        std::fprintf(stderr, "shared_value: a %s child failed\n",
                     inc_names[static_cast<int>(side)]);
        return -1;
    }
    switch (side)
    {
    case inc_side::atomic:
        total = word(a.atomic_counter).load();
        break;
    case inc_side::pthread:
        total = a.plain_counter;
        break;
    case inc_side::pthread_rr:
    case inc_side::rr_gettid:
        total = a.robust_counter;
        break;
    case inc_side::weft_rlock:
        total = v.get();
        break;
    case inc_side::weft_lock:
        total = vl.get();
        break;
    }
    const std::int64_t first = std::min(a.start_ns[0], a.start_ns[1]);
    const std::int64_t last = std::max(a.end_ns[0], a.end_ns[1]);
    return static_cast<double>(last - first) / static_cast<double>(2 * n);
}

// ---- 2. ping-pong ---------------------------------------------------------------------------

void post(std::uint32_t& w)
{
    word(w).store(1);
    futex_wake(w, 1);
}

void wait(std::uint32_t& w)
{
    while (word(w).exchange(0) == 0)
    {
        futex_wait(w, 0);
    }
}

// Pins the calling thread to `cpu`; -1 leaves it where it is.
void pin(int cpu)
{
    if (cpu < 0)
    {
        return;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    ::sched_setaffinity(0, sizeof set, &set);
}

void pingpong_child(arena_value shared, ipc::semaphore ping, ipc::semaphore pong, int futex_side,
                    int cpu, std::int64_t n)
{
    pin(cpu);
    arena& a = shared.raw();
    if (futex_side != 0)
    {
        post(a.pong); // ready
        for (std::int64_t i = 0; i < n; ++i)
        {
            wait(a.ping);
            post(a.pong);
        }
        return;
    }
    pong.release(); // ready
    for (std::int64_t i = 0; i < n; ++i)
    {
        ping.acquire();
        pong.release();
    }
}

// Where the two processes of a ping-pong run: unpinned, both on CPU 0, on CPUs 0 and 1.
constexpr const char* placements[] = {"free", "same", "cross"};

// µs per round trip, negative on failure.
double run_pingpong(bool futex_side, int placement, std::int64_t n)
{
    arena_value shared(arena{}, {.lock = false});
    arena& a = shared.raw();
    ipc::semaphore ping(0);
    ipc::semaphore pong(0);
    cpu_set_t original;
    ::sched_getaffinity(0, sizeof original, &original);
    pin(placement == 0 ? -1 : 0);
    weft::process child({.start_method = weft::start_method::forkserver}, pingpong_child, shared,
                        ping, pong, futex_side ? 1 : 0, placement == 0 ? -1 : placement - 1, n);
    child.start();
    std::int64_t start = 0;
    if (futex_side)
    {
        wait(a.pong);
        start = bench::now_ns();
        for (std::int64_t i = 0; i < n; ++i)
        {
            post(a.ping);
            wait(a.pong);
        }
    }
    else
    {
        pong.acquire();
        start = bench::now_ns();
        for (std::int64_t i = 0; i < n; ++i)
        {
            ping.release();
            pong.acquire();
        }
    }
    const std::int64_t end = bench::now_ns();
    child.join();
    ::sched_setaffinity(0, sizeof original, &original);
    if (child.exitcode().value_or(-99) != 0)
    {
        std::fprintf(stderr, "shared_value: ping-pong child failed\n");
        return -1;
    }
    return static_cast<double>(end - start) / 1e3 / static_cast<double>(n);
}

// ---- 3. uncontended -------------------------------------------------------------------------

enum unc_side : std::size_t
{
    unc_std_mutex,
    unc_pthread,
    unc_pthread_rr,
    unc_rr_gettid,
    unc_weft_lock,
    unc_weft_rlock,
    unc_value_guard
};
constexpr const char* unc_names[] = {"std::mutex", "pthread",    "pthread-rr",      "rr+gettid",
                                     "weft-lock",  "weft-rlock", "weft-value-guard"};
constexpr std::size_t n_unc_sides = sizeof unc_names / sizeof unc_names[0];

template <class Fn>
double per_pair_ns(std::int64_t n, Fn&& fn)
{
    const std::int64_t start = bench::now_ns();
    for (std::int64_t i = 0; i < n; ++i)
    {
        fn();
    }
    return static_cast<double>(bench::now_ns() - start) / static_cast<double>(n);
}

struct python_results
{
    std::map<std::string, double> values; // "key" -> figure
};

python_results run_python(const std::string& script, std::int64_t n, std::int64_t n_pp,
                          std::int64_t n_unc, int repeats)
{
    python_results result;
    const std::string command = "python3 '" + script + "' " + std::to_string(n) + " " +
                                std::to_string(n_pp) + " " + std::to_string(n_unc) + " " +
                                std::to_string(repeats);
    bench::run_command(command, bench::echo::on,
                       [&](const char* line)
                       {
                           char key[64];
                           double value = 0;
                           if (std::sscanf(line, "result %63s %lf", key, &value) == 2)
                           {
                               result.values[key] = value;
                           }
                       });
    return result;
}

double lookup(const python_results& py, const char* key)
{
    const auto it = py.values.find(key);
    return it == py.values.end() ? -1 : it->second;
}

} // namespace

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 500'000;
    const std::int64_t n_pp = argc > 2 ? std::atoll(argv[2]) : 5'000;
    const std::int64_t n_unc = argc > 3 ? std::atoll(argv[3]) : 2'000'000;
    const int repeats = argc > 4 ? std::atoi(argv[4]) : 3;
    const std::string script = argc > 5 ? argv[5] : WEFT_SHARED_VALUE_PY;
    if (n < 1 || n_pp < 1 || n_unc < 1 || repeats < 1)
    {
        std::fprintf(stderr,
                     "usage: shared_value [N [N_PP [N_UNC [REPEATS [SCRIPT]]]]], all >= 1\n");
        return 2;
    }
    bool correct = true;
    try
    {
        // The fork server starts here, not inside a timing.
        (void)run_pingpong(false, 0, 1);

        std::printf("shared_value: %d repeats, medians; pid %d, nproc %u\n", repeats,
                    static_cast<int>(::getpid()), std::thread::hardware_concurrency());
        std::printf("\n1. locked increments: 2 processes (forkserver) x %lld each, ns per "
                    "increment ((last end - first start) / 2N)\n",
                    static_cast<long long>(n));
        std::vector<double> inc_ns[n_inc_sides];
        for (int r = 0; r < repeats; ++r)
        {
            std::printf("repeat %d:", r + 1);
            for (std::size_t i = 0; i < n_inc_sides; ++i)
            {
                const std::size_t s = (i + static_cast<std::size_t>(r)) % n_inc_sides;
                std::int64_t total = 0;
                const double ns = run_increments(inc_sides[s], n, total);
                if (ns < 0)
                {
                    return 1;
                }
                inc_ns[s].push_back(ns);
                std::printf("  %s %.1f (total %lld)", inc_names[s], ns,
                            static_cast<long long>(total));
                if (total != 2 * n)
                {
                    std::printf(" WRONG, expected %lld", static_cast<long long>(2 * n));
                    correct = false;
                }
            }
            std::printf("\n");
            std::fflush(stdout);
        }
        double inc_median[n_inc_sides];
        for (std::size_t s = 0; s < n_inc_sides; ++s)
        {
            inc_median[s] = bench::median(inc_ns[s]);
            std::printf("%-12s %8.1f ns per increment\n", inc_names[s], inc_median[s]);
        }
        std::printf("check: %s\n", correct ? "every total is 2N" : "TOTAL MISMATCH");

        const int n_placements = std::thread::hardware_concurrency() >= 2 ? 3 : 2;
        std::printf("\n2. semaphore ping-pong: parent and 1 child (forkserver), %lld round trips, "
                    "us per round trip; free: unpinned, same: both on CPU 0, cross: CPUs 0 and 1\n",
                    static_cast<long long>(n_pp));
        std::vector<double> pp_us[3][2]; // [placement][weft, futex]
        for (int r = 0; r < repeats; ++r)
        {
            std::printf("repeat %d:", r + 1);
            for (int i = 0; i < 2 * n_placements; ++i)
            {
                const int k = (i + r) % (2 * n_placements);
                const int placement = k / 2;
                const bool futex_side = (k % 2) == 1;
                const double us = run_pingpong(futex_side, placement, n_pp);
                if (us < 0)
                {
                    return 1;
                }
                pp_us[placement][futex_side ? 1 : 0].push_back(us);
                std::printf("  %s/%s %.2f", futex_side ? "futex" : "weft", placements[placement],
                            us);
            }
            std::printf("\n");
            std::fflush(stdout);
        }
        double pp_weft[3] = {};
        double pp_floor[3] = {};
        for (int p = 0; p < n_placements; ++p)
        {
            pp_weft[p] = bench::median(pp_us[p][0]);
            pp_floor[p] = bench::median(pp_us[p][1]);
            std::printf("%-6s weft %8.2f us  futex %8.2f us per round trip\n", placements[p],
                        pp_weft[p], pp_floor[p]);
        }

        std::printf("\n3. uncontended acquire+release in one process, %lld pairs, ns per pair\n",
                    static_cast<long long>(n_unc));
        arena_value shared(arena{}, {.lock = false});
        arena& a = shared.raw();
        if (!init_mutex(a.plain_mutex, false) || !init_mutex(a.robust_mutex, true))
        {
            std::fprintf(stderr, "shared_value: pthread_mutex_init failed\n");
            return 1;
        }
        std::mutex std_mutex;
        ipc::lock lock;
        ipc::rlock rlock;
        value_rlock v(0);
        std::vector<double> unc_ns[n_unc_sides];
        for (int r = 0; r < repeats; ++r)
        {
            for (std::size_t i = 0; i < n_unc_sides; ++i)
            {
                const std::size_t s = (i + static_cast<std::size_t>(r)) % n_unc_sides;
                double ns = 0;
                switch (s)
                {
                case unc_std_mutex:
                    ns = per_pair_ns(n_unc,
                                     [&]
                                     {
                                         std_mutex.lock();
                                         std_mutex.unlock();
                                     });
                    break;
                case unc_pthread:
                case unc_pthread_rr:
                {
                    pthread_mutex_t* m =
                        mutex_at(s == unc_pthread ? a.plain_mutex : a.robust_mutex);
                    ns = per_pair_ns(n_unc,
                                     [m]
                                     {
                                         ::pthread_mutex_lock(m);
                                         ::pthread_mutex_unlock(m);
                                     });
                    break;
                }
                case unc_rr_gettid:
                {
                    pthread_mutex_t* m = mutex_at(a.robust_mutex);
                    ns = per_pair_ns(n_unc,
                                     [m]
                                     {
                                         ::pthread_mutex_lock(m);
                                         if (::gettid() == 0)
                                         {
                                             std::abort();
                                         }
                                         ::pthread_mutex_unlock(m);
                                     });
                    break;
                }
                case unc_weft_lock:
                    ns = per_pair_ns(n_unc,
                                     [&]
                                     {
                                         (void)lock.acquire();
                                         lock.release();
                                     });
                    break;
                case unc_weft_rlock:
                    ns = per_pair_ns(n_unc,
                                     [&]
                                     {
                                         (void)rlock.acquire();
                                         rlock.release();
                                     });
                    break;
                default:
                    ns = per_pair_ns(n_unc,
                                     [&]
                                     {
                                         auto held = v.get_lock().guard();
                                         v.raw() += 1;
                                     });
                    break;
                }
                unc_ns[s].push_back(ns);
            }
        }
        double unc_median[n_unc_sides];
        for (std::size_t s = 0; s < n_unc_sides; ++s)
        {
            unc_median[s] = bench::median(unc_ns[s]);
            std::printf("%-17s %7.1f ns per pair\n", unc_names[s], unc_median[s]);
        }
        if (v.get() != repeats * n_unc)
        {
            std::printf("weft-value-guard total %lld WRONG, expected %lld\n",
                        static_cast<long long>(v.get()), static_cast<long long>(repeats * n_unc));
            correct = false;
        }

        // Ratios within weft's own run.
        const double atomic_ns = inc_median[0];
        const double pthread_ns = inc_median[1];
        const double rr_ns = inc_median[2];
        std::printf("\nweft against the floors (same run)\n");
        for (std::size_t s = 4; s < n_inc_sides; ++s)
        {
            std::printf("increments %-10s  %.2fx pthread, %.2fx pthread-rr, %.2fx rr+gettid, "
                        "%.2fx atomic\n",
                        inc_names[s], inc_median[s] / pthread_ns, inc_median[s] / rr_ns,
                        inc_median[s] / inc_median[3], inc_median[s] / atomic_ns);
        }
        for (int p = 0; p < n_placements; ++p)
        {
            std::printf("ping-pong/%-5s weft     %.2fx futex\n", placements[p],
                        pp_weft[p] / pp_floor[p]);
        }
        std::printf("uncontended weft-lock  %.2fx pthread-rr, %.2fx rr+gettid, %.2fx std::mutex; "
                    "weft-rlock %.2fx pthread-rr\n",
                    unc_median[unc_weft_lock] / unc_median[unc_pthread_rr],
                    unc_median[unc_weft_lock] / unc_median[unc_rr_gettid],
                    unc_median[unc_weft_lock] / unc_median[unc_std_mutex],
                    unc_median[unc_weft_rlock] / unc_median[unc_pthread_rr]);

        if (script != "-")
        {
            const python_results py = run_python(script, n, n_pp, n_unc, repeats);
            const double py_inc = lookup(py, "increment_ns");
            const double py_lock = lookup(py, "lock_ns");
            const double py_total = lookup(py, "increment_total");
            std::printf("\nPython / weft (how many times faster weft is); target >= 10x on "
                        "locked increments\n");
            if (py_inc > 0)
            {
                for (std::size_t s = 4; s < n_inc_sides; ++s)
                {
                    const double speedup = py_inc / inc_median[s];
                    std::printf("increments  %-10s %7.1fx  (Python %.1f ns, total %.0f)  %s\n",
                                inc_names[s], speedup, py_inc, py_total,
                                speedup >= 10 ? "met" : "MISSED");
                }
                std::printf("increments  floors: pthread %.1fx, atomic %.1fx Python\n",
                            py_inc / pthread_ns, py_inc / atomic_ns);
            }
            for (int p = 0; p < n_placements; ++p)
            {
                const double py_pp =
                    lookup(py, (std::string("pingpong_us_") + placements[p]).c_str());
                if (py_pp > 0)
                {
                    std::printf("ping-pong/%-5s weft %7.2fx  (Python %.2f us), futex floor %.2fx\n",
                                placements[p], py_pp / pp_weft[p], py_pp, py_pp / pp_floor[p]);
                }
            }
            if (py_lock > 0)
            {
                std::printf("uncontended weft-lock %.2fx, weft-rlock %.2fx  (Python Lock %.1f "
                            "ns), std::mutex %.1fx\n",
                            py_lock / unc_median[unc_weft_lock],
                            py_lock / unc_median[unc_weft_rlock], py_lock,
                            py_lock / unc_median[unc_std_mutex]);
            }
            if (py_total >= 0 && py_total != static_cast<double>(2 * n))
            {
                correct = false;
            }
        }
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "shared_value: %s\n", e.what());
        return 1;
    }
    return correct ? 0 : 1;
}
