// submit_burst: process_pool_executor's submit-then-gather throughput, repeated, with the
// spread across repeats. bench/process_pool measures the same burst once per start method
// beside Python; this program repeats it in one pool, so that a before/after comparison (or a
// system-call count, below) rests on more than one burst of a noisy machine.
//
// The work: trivial(x) = x + 1. Each repeat submits COUNT calls, then sums their results; the
// sum must be COUNT(COUNT+1)/2 (exit 1 otherwise). Prints each repeat's tasks/s and how long
// its submitting took, then the median. No time is asserted.
//
// Counting the futex calls per thread (what BENCHMARKS.md "Fewer system calls per task" did):
//   perf record -o /tmp/futex.data -e raw_syscalls:sys_enter --filter "id == 202" --
//       build/bench/submit_burst 100000 5 (on one line)
//   perf script -i /tmp/futex.data | awk '{print $1, $2}' | sort | uniq -c
// (the program's main thread is the submitting one; "exe" rows are the workers).
//
// Run: build/bench/submit_burst [COUNT [REPEATS [METHOD]]]
//      defaults 100000 5 forkserver; METHOD one of fork, spawn, forkserver. About 1 s.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include "bench/support/bench_support.hpp"
#include "bench/support/start_methods.hpp"

namespace
{

int trivial(int x)
{
    return x + 1;
}

} // namespace

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const int count = argc > 1 ? std::atoi(argv[1]) : 100'000;
    const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
    std::vector<weft::start_method> methods;
    if (count < 1 || repeats < 1 ||
        !bench::parse_methods(argc > 3 ? argv[3] : "forkserver", methods) || methods.size() != 1)
    {
        std::fprintf(stderr, "usage: submit_burst [COUNT [REPEATS [METHOD]]]: COUNT >= 1, "
                             "REPEATS >= 1, METHOD one of fork, spawn, forkserver\n");
        return 2;
    }
    weft::process_pool_executor pool({.max_workers = 2, .start_method = methods[0]});
    (void)pool.submit(trivial, 0).result(); // started and warm
    std::printf("submit_burst: %d trivial calls submitted, then gathered, %d times, 2 workers, "
                "%s\n",
                count, repeats, weft::to_string(methods[0]));
    std::vector<double> rates;
    bool correct = true;
    for (int r = 0; r < repeats; ++r)
    {
        std::vector<weft::future<int>> futures;
        futures.reserve(static_cast<std::size_t>(count));
        const auto start = bench::now_ns();
        for (int i = 0; i < count; ++i)
        {
            futures.push_back(pool.submit(trivial, i));
        }
        const auto submitted = bench::now_ns();
        long long sum = 0;
        for (auto& f : futures)
        {
            sum += f.result();
        }
        const auto end = bench::now_ns();
        const double rate = count / (static_cast<double>(end - start) / 1e9);
        const long long expected = static_cast<long long>(count) * (count + 1) / 2;
        correct = correct && sum == expected;
        rates.push_back(rate);
        std::printf("repeat %d: %10.0f tasks/s (submitting took %.1f ms of %.1f)%s\n", r + 1, rate,
                    static_cast<double>(submitted - start) / 1e6,
                    static_cast<double>(end - start) / 1e6, sum == expected ? "" : " MISMATCH");
    }
    std::printf("median %.0f tasks/s\n", bench::median(rates));
    std::printf("check: %s\n", correct ? "every sum is n(n+1)/2" : "SUM MISMATCH");
    return correct ? 0 : 1;
}
