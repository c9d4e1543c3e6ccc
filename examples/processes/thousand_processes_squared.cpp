// The seeds' first Process program: 1,000 random numbers in [0, 100], one process each,
// all started, then all joined; each prints its parent's and its own pid with the square.
// (The seeds' next version collects the squares through a Queue: issue 5's channels.)
#include <cstdio>
#include <random>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <sys/resource.h>

void squared(int x)
{
    std::printf("module=%s : parent=%d : process=%d : result=%d\n",
                weft::current_process_name().c_str(), static_cast<int>(::getppid()),
                static_cast<int>(::getpid()), x * x);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    // A started process holds a pidfd until it is joined: a thousand of them at once need more
    // than the usual soft limit of 1,024 descriptors.
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);

    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> percent(0, 100);
    std::vector<weft::process> processes;
    processes.reserve(1000);
    for (int i = 0; i < 1000; ++i)
    {
        processes.emplace_back(squared, percent(random));
    }
    std::fflush(stdout);
    for (auto& process : processes)
    {
        process.start();
    }
    int failed = 0;
    for (auto& process : processes)
    {
        process.join();
        failed += process.exitcode().value_or(-1) != 0 ? 1 : 0;
    }
    return failed == 0 ? 0 : 1;
}
