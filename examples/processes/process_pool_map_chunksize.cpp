// The seeds' ProcessPoolExecutor.map of squares over 1..10 with chunksize 1 and then 5, the
// values printed in order with the pid of the worker that computed each: with chunksize 5 the
// ten inputs travel as two messages, so at most two workers do the work.
#include <cstdio>
#include <set>
#include <unistd.h>
#include <utility>
#include <vector>
#include <weft/weft.hpp>

std::pair<int, pid_t> square(int item)
{
    return {item * item, ::getpid()};
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const std::vector<int> items = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    weft::process_pool_executor executor({.max_workers = 10});
    int wrong = 0;
    for (const std::size_t chunksize : {1UL, 5UL})
    {
        std::printf("chunksize %zu\n", chunksize);
        std::set<pid_t> workers;
        int expected = 1;
        for (const auto& [sq, pid] : executor.map(square, items, {.chunksize = chunksize}))
        {
            std::printf("%d (worker %d)\n", sq, static_cast<int>(pid));
            wrong += sq != expected * expected ? 1 : 0;
            ++expected;
            workers.insert(pid);
        }
        std::printf("%zu worker(s) did the work\n", workers.size());
        wrong += chunksize == 5 && workers.size() > 2 ? 1 : 0;
    }
    executor.shutdown();
    return wrong == 0 ? 0 : 1;
}
