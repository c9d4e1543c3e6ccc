// cpu_speedup: CPU-bound work spread over all cores, serial against thread_pool_executor and
// process_pool_executor (each start method), in one run.
//
// The work: count the primes below N by trial division (odd divisors up to sqrt(n)), split into
// K chunks [lo, hi) of equal width (the later chunks cost more; K well above the number of
// workers keeps the tail short). Each side computes the same total:
//   serial      the K chunks one after another on the main thread
//   threads     thread_pool_executor({.max_workers = W}): submit() per chunk, then every
//               future's result() summed
//   fork, spawn, forkserver
//               process_pool_executor({.max_workers = W, .start_method = m}), the same way
// W = std::thread::hardware_concurrency(). Every pool is created and warmed before any timing
// (rounds of W trivial tasks submitted at once and gathered until W distinct worker pids have
// answered; the thread pool's W warm-up tasks wait on a latch until W threads run them), so
// start-up is excluded. The fork pool is created first, while the
// process has no other thread. Each repeat runs the sides in a rotated order; the times are
// the medians over the repeats, speedup = serial / side.
//
// Then, unless SCRIPT is "-", the pools are shut down and it runs `python3 SCRIPT PY_N K
// REPEATS` (cpu_speedup.py: the same work split the same way, serial, ThreadPoolExecutor,
// ProcessPoolExecutor and Pool.map per start method, with their own serial run) and prints the
// speedups side by side. Python's N is smaller (a Python loop is ~50-100x slower than C++), so
// the times do not compare; the speedups, each over its own serial in the same run, do. Target:
// processes >= 1.9x serial on 2 cores (0.95 x W in general); Python (FLOORS.md): 1.34-1.85x.
//
// The counts must agree: the program exits 1 when any side's count differs from serial's. No
// time is asserted.
//
// Run: build-bench/bench/cpu_speedup [N [K [REPEATS [SCRIPT [PY_N]]]]]
//      defaults 6000000 64 3 bench/cpu_speedup.py 400000; SCRIPT "-" skips Python. About 20 s
//      for weft and 15 s for Python on the 2-core VM (measured busy, load 5-6).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <latch>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>
#include <weft/weft.hpp>

#include "bench/support/bench_support.hpp"
#include "bench/support/run_command.hpp"

#ifndef WEFT_CPU_SPEEDUP_PY
#define WEFT_CPU_SPEEDUP_PY "bench/cpu_speedup.py"
#endif

namespace
{

bool is_prime(std::int64_t n)
{
    if (n < 2)
    {
        return false;
    }
    if (n < 4)
    {
        return true;
    }
    if (n % 2 == 0)
    {
        return false;
    }
    for (std::int64_t d = 3; d * d <= n; d += 2)
    {
        if (n % d == 0)
        {
            return false;
        }
    }
    return true;
}

std::int64_t count_primes(std::int64_t lo, std::int64_t hi)
{
    std::int64_t count = 0;
    for (std::int64_t n = lo; n < hi; ++n)
    {
        count += is_prime(n) ? 1 : 0;
    }
    return count;
}

int worker_pid()
{
    return static_cast<int>(::getpid());
}

struct chunk
{
    std::int64_t lo;
    std::int64_t hi;
};

std::vector<chunk> make_chunks(std::int64_t n, std::int64_t k)
{
    std::vector<chunk> chunks;
    for (std::int64_t i = 0; i < k; ++i)
    {
        chunks.push_back({n * i / k, n * (i + 1) / k});
    }
    return chunks;
}

template <class Pool>
std::int64_t run_pool(Pool& pool, const std::vector<chunk>& chunks)
{
    std::vector<decltype(pool.submit(count_primes, std::int64_t{}, std::int64_t{}))> futures;
    futures.reserve(chunks.size());
    for (const chunk& c : chunks)
    {
        futures.push_back(pool.submit(count_primes, c.lo, c.hi));
    }
    std::int64_t total = 0;
    for (auto& f : futures)
    {
        total += f.result();
    }
    return total;
}

// Rounds of one trivial task per worker, all submitted at once and gathered, until W distinct
// workers have answered (a fast worker may take two tasks of a round: the pool gives each to
// the least loaded worker, and a finished task no longer counts). False after 10,000 rounds.
bool warm(weft::process_pool_executor& pool, int workers)
{
    std::set<int> pids;
    for (int round = 0; round < 10'000 && static_cast<int>(pids.size()) < workers; ++round)
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
    }
    return static_cast<int>(pids.size()) == workers;
}

void warm(weft::thread_pool_executor& pool, int workers)
{
    std::latch all_running(workers);
    std::vector<weft::future<void>> futures;
    for (int i = 0; i < workers; ++i)
    {
        futures.push_back(pool.submit([&all_running] { all_running.arrive_and_wait(); }));
    }
    for (auto& f : futures)
    {
        f.result();
    }
}

struct side
{
    side(std::string n, std::function<std::int64_t()> r) : name(std::move(n)), run(std::move(r)) {}

    std::string name;
    std::function<std::int64_t()> run;
    std::vector<double> seconds;
    std::int64_t count = -1;
    bool agreed = true;
};

struct python_side
{
    std::string name;
    double seconds = 0;
    double speedup = 0;
};

// Runs cpu_speedup.py, echoes its output and returns its rows ("NAME T s  speedup S x ...").
std::vector<python_side> run_python(const std::string& script, std::int64_t n, std::int64_t k,
                                    int repeats, bool& agreed)
{
    const std::string command = "python3 '" + script + "' " + std::to_string(n) + " " +
                                std::to_string(k) + " " + std::to_string(repeats);
    std::vector<python_side> rows;
    agreed = false;
    const int status = bench::run_command(
        command, bench::echo::on,
        [&](const char* line)
        {
            char name[64];
            python_side row;
            if (std::sscanf(line, "%63s %lf s speedup %lfx", name, &row.seconds, &row.speedup) == 3)
            {
                row.name = name;
                rows.push_back(row);
            }
            if (std::strncmp(line, "check: all counts agree", 23) == 0)
            {
                agreed = true;
            }
        });
    agreed = status == 0 && agreed;
    return rows;
}

double python_speedup(const std::vector<python_side>& rows, const std::string& name)
{
    for (const python_side& row : rows)
    {
        if (row.name == name)
        {
            return row.speedup;
        }
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 6'000'000;
    const std::int64_t k = argc > 2 ? std::atoll(argv[2]) : 64;
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
    const std::string script = argc > 4 ? argv[4] : WEFT_CPU_SPEEDUP_PY;
    const std::int64_t py_n = argc > 5 ? std::atoll(argv[5]) : 400'000;
    if (n < 1 || k < 1 || repeats < 1 || py_n < 1)
    {
        std::fprintf(stderr, "usage: cpu_speedup [N [K [REPEATS [SCRIPT [PY_N]]]]]: numbers >= 1, "
                             "SCRIPT - skips Python\n");
        return 2;
    }
    const int workers = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    const std::vector<chunk> chunks = make_chunks(n, k);

    // The fork pool first, while this process has no other thread.
    std::vector<std::unique_ptr<weft::process_pool_executor>> pools;
    for (const auto method :
         {weft::start_method::fork, weft::start_method::spawn, weft::start_method::forkserver})
    {
        pools.push_back(std::make_unique<weft::process_pool_executor>(
            weft::process_pool_executor::options{.max_workers = workers, .start_method = method}));
        if (!warm(*pools.back(), workers))
        {
            std::fprintf(stderr, "cpu_speedup: %s warm-up did not reach %d workers\n",
                         weft::to_string(method), workers);
            return 1;
        }
    }
    auto threads = std::make_unique<weft::thread_pool_executor>(
        weft::thread_pool_executor::options{.max_workers = workers});
    warm(*threads, workers);

    std::vector<side> sides;
    sides.emplace_back("serial",
                       [&]
                       {
                           std::int64_t total = 0;
                           for (const chunk& c : chunks)
                           {
                               total += count_primes(c.lo, c.hi);
                           }
                           return total;
                       });
    sides.emplace_back("threads", [&] { return run_pool(*threads, chunks); });
    sides.emplace_back("fork", [&] { return run_pool(*pools[0], chunks); });
    sides.emplace_back("spawn", [&] { return run_pool(*pools[1], chunks); });
    sides.emplace_back("forkserver", [&] { return run_pool(*pools[2], chunks); });

    std::printf("cpu_speedup: primes below %lld by trial division, %lld chunks, %d workers "
                "(hardware_concurrency), %d repeats, medians\n",
                static_cast<long long>(n), static_cast<long long>(k), workers, repeats);
    for (int r = 0; r < repeats; ++r)
    {
        for (std::size_t i = 0; i < sides.size(); ++i)
        {
            side& s = sides[(i + static_cast<std::size_t>(r)) % sides.size()];
            const auto start = bench::now_ns();
            const std::int64_t count = s.run();
            s.seconds.push_back(static_cast<double>(bench::now_ns() - start) / 1e9);
            if (s.count >= 0 && s.count != count)
            {
                s.agreed = false;
            }
            s.count = count;
        }
    }
    const double serial = bench::median(sides[0].seconds);
    bool agree = true;
    for (const side& s : sides)
    {
        const bool same = s.agreed && s.count == sides[0].count;
        agree = agree && same;
        std::printf("%-12s %8.3f s  speedup %5.2fx  count %lld%s\n", s.name.c_str(),
                    bench::median(s.seconds), serial / bench::median(s.seconds),
                    static_cast<long long>(s.count), same ? "" : "  MISMATCH");
    }
    std::printf("check: %s\n", agree ? "all counts agree" : "COUNTS DISAGREE");
    std::fflush(stdout);
    // The pools go before Python runs, so that their idle workers are gone.
    threads.reset();
    pools.clear();

    if (script != "-")
    {
        bool py_agreed = false;
        const std::vector<python_side> py = run_python(script, py_n, k, repeats, py_agreed);
        const double target = 0.95 * workers;
        std::printf("\nspeedup over serial, same run (weft: primes below %lld; Python: below "
                    "%lld; %lld chunks, %d workers each)\n",
                    static_cast<long long>(n), static_cast<long long>(py_n),
                    static_cast<long long>(k), workers);
        std::printf("target: weft processes >= %.2fx (0.95 x %d workers; 1.9x on 2 cores); "
                    "FLOORS.md Python: 1.34-1.85x\n",
                    target, workers);
        std::printf("%-12s %8s %12s %12s %14s\n", "side", "weft", "Python PPE", "Python Pool",
                    "weft / PPE");
        for (std::size_t i = 1; i < sides.size(); ++i)
        {
            const side& s = sides[i];
            const double ours = serial / bench::median(s.seconds);
            const bool threads_side = s.name == "threads";
            const double ppe = python_speedup(py, threads_side ? "threads" : "ppe-" + s.name);
            const double pool = threads_side ? 0 : python_speedup(py, "pool-" + s.name);
            char pool_text[32] = "-";
            if (pool > 0)
            {
                std::snprintf(pool_text, sizeof pool_text, "%.2fx", pool);
            }
            std::printf("%-12s %7.2fx %11.2fx %12s %13.2fx  %s\n", s.name.c_str(), ours, ppe,
                        pool_text, ppe > 0 ? ours / ppe : 0.0,
                        threads_side ? "(Python threads: the GIL)"
                                     : (ours >= target ? "met" : "MISSED"));
        }
        if (!py_agreed)
        {
            std::printf("Python: its counts disagree or it failed\n");
        }
    }
    return agree ? 0 : 1;
}
