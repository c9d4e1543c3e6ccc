// process_start: how long weft::process takes to start a child that does nothing and to reap
// it, per start method, against the floors and Python, in one run.
//
//   floor-fork   fork() + _exit(0) in the child + waitpid: the kernel's cost for a copy
//   floor-exec   posix_spawn of this executable, which exits at once (argv[1] == "--exit"),
//                + waitpid: the kernel's and the dynamic loader's cost for a fresh run
//   fork/spawn/forkserver   weft::process(noop) start() + join() (forkserver: after a warm-up
//                start, so that the server is already running, as in Python's figure)
//   python       multiprocessing Process(target=noop) start() + join() (process_start.py)
// Microseconds per start+join, median of ROUNDS batches of COUNT.
//
// Run: build-bench/bench/process_start [COUNT [ROUNDS [PATH/TO/process_start.py]]]

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <spawn.h>
#include <string>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <sys/wait.h>

#include "bench/support/bench_support.hpp"
#include "bench/support/run_command.hpp"

#ifndef WEFT_PROCESS_START_PY
#define WEFT_PROCESS_START_PY "bench/process_start.py"
#endif

extern char** environ; // NOLINT: POSIX

namespace
{

void noop() {}

template <class Fn>
double per_call_us(int count, Fn&& fn)
{
    const auto start = bench::now_ns();
    for (int i = 0; i < count; ++i)
    {
        fn();
    }
    return static_cast<double>(bench::now_ns() - start) / 1e3 / count;
}

void floor_fork()
{
    const pid_t pid = ::fork();
    if (pid == 0)
    {
        ::_exit(0);
    }
    ::waitpid(pid, nullptr, 0);
}

void floor_exec()
{
    char self[] = "/proc/self/exe";
    char flag[] = "--exit";
    char* argv[] = {self, flag, nullptr};
    pid_t pid = 0;
    if (::posix_spawn(&pid, self, nullptr, nullptr, argv, environ) == 0)
    {
        ::waitpid(pid, nullptr, 0);
    }
}

void weft_process(weft::start_method method)
{
    weft::process p({.start_method = method}, noop);
    p.start();
    p.join();
}

std::map<std::string, double> run_python(const std::string& script, int count)
{
    std::map<std::string, double> result;
    const std::string command = "python3 '" + script + "' " + std::to_string(count);
    bench::run_command(command, bench::echo::off,
                       [&](const char* line)
                       {
                           char method[32] = {};
                           double us = 0;
                           if (std::sscanf(line, "method=%31s us=%lf", method, &us) == 2)
                           {
                               result[method] = us;
                           }
                       });
    return result;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc > 1 && std::strcmp(argv[1], "--exit") == 0)
    {
        return 0;
    }
    weft::main_guard(argc, argv);
    const int count = argc > 1 ? std::atoi(argv[1]) : 100;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
    const std::string script = argc > 3 ? argv[3] : WEFT_PROCESS_START_PY;
    std::printf("process_start: %d starts per measurement, %d rounds (us per start+join)\n", count,
                rounds);
    weft_process(weft::start_method::forkserver); // the server starts here, not in the timing

    const weft::start_method methods[] = {weft::start_method::fork, weft::start_method::spawn,
                                          weft::start_method::forkserver};
    std::map<std::string, std::vector<double>> samples;
    for (int round = 0; round < rounds; ++round)
    {
        samples["floor-fork"].push_back(per_call_us(count, floor_fork));
        samples["floor-exec"].push_back(per_call_us(count, floor_exec));
        for (const auto method : methods)
        {
            samples[weft::to_string(method)].push_back(
                per_call_us(count, [method] { weft_process(method); }));
        }
        std::printf("round %d: floor-fork %.0f floor-exec %.0f fork %.0f spawn %.0f forkserver "
                    "%.0f\n",
                    round + 1, samples["floor-fork"].back(), samples["floor-exec"].back(),
                    samples["fork"].back(), samples["spawn"].back(), samples["forkserver"].back());
    }
    const auto python = run_python(script, count / 2 > 0 ? count / 2 : 1);
    const double fork_floor = bench::median(samples["floor-fork"]);
    const double exec_floor = bench::median(samples["floor-exec"]);
    std::printf("median: floor-fork %.0f, floor-exec %.0f\n", fork_floor, exec_floor);
    for (const auto method : methods)
    {
        const std::string name = weft::to_string(method);
        const double weft_us = bench::median(samples[name]);
        const auto py = python.find(name);
        const double py_us = py != python.end() ? py->second : -1;
        std::printf("%-10s weft %7.0f us (%.2fx floor-%s)  python %7.0f us  weft %.1fx faster\n",
                    name.c_str(), weft_us,
                    weft_us / (method == weft::start_method::spawn ? exec_floor : fork_floor),
                    method == weft::start_method::spawn ? "exec" : "fork", py_us,
                    py_us > 0 ? py_us / weft_us : 0.0);
    }
}
