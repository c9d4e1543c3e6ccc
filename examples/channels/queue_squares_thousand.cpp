// The seeds' second 1,000-process program: each process squares a random number in [0, 100],
// prints its pid and result, and puts the square on one shared queue; the parent gets 1,000
// results first, then joins every process (the seed's order: with Python's feeder thread a
// child cannot finish while its item is still unread).
//
// In weft put() writes the item into the queue's shared memory before it returns (no feeder
// thread), so joining first would work too. To keep the output short only the first five
// processes print their line, and the parent prints the first ten results; it checks that the
// results are exactly the squares of the numbers it handed out (as multisets: the order in
// which children put is arbitrary).
#include <algorithm>
#include <cstdio>
#include <random>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <sys/resource.h>

void squared(int x, weft::queue<int> queue, bool talk)
{
    const int result = x * x;
    if (talk)
    {
        std::printf("module=%s : parent=%d : process=%d : result=%d\n",
                    weft::current_process_name().c_str(), static_cast<int>(::getppid()),
                    static_cast<int>(::getpid()), result);
    }
    queue.put(result);
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

    // generate 1,000 random numbers in the range [0, 100]
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> percent(0, 100);
    std::vector<int> numbers(1000);
    std::generate(numbers.begin(), numbers.end(), [&] { return percent(random); });

    weft::queue<int> queue; // set up a queue to store results

    std::vector<weft::process> processes;
    processes.reserve(numbers.size());
    for (std::size_t i = 0; i < numbers.size(); ++i)
    {
        processes.emplace_back(squared, numbers[i], queue, i < 5);
    }
    std::fflush(stdout);
    for (auto& process : processes)
    {
        process.start();
    }

    std::vector<int> results;
    for (std::size_t i = 0; i < processes.size(); ++i)
    {
        results.push_back(queue.get());
    }

    int failed = 0;
    for (auto& process : processes)
    {
        process.join();
        failed += process.exitcode().value_or(-1) != 0 ? 1 : 0;
    }

    std::printf("[");
    for (std::size_t i = 0; i < 10; ++i)
    {
        std::printf("%d, ", results[i]);
    }
    std::printf("...] (%zu results)\n", results.size());

    std::vector<int> expected;
    for (int x : numbers)
    {
        expected.push_back(x * x);
    }
    std::sort(expected.begin(), expected.end());
    std::sort(results.begin(), results.end());
    const bool same = results == expected;
    std::printf("results %s the squares of the inputs\n", same ? "are" : "are NOT");
    return failed == 0 && same ? 0 : 1;
}
