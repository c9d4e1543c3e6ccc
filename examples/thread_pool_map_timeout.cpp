// The seeds' ThreadPoolExecutor map with a timeout: squaring 1..10 where 5 takes too long. The
// results before it print; advancing to it throws timeout_error once the timeout (counted from
// the map call) has passed, and the calls that had not started are cancelled. (The seeds sleep
// 10 s against a 2 s timeout; 2 s against 1 s here keeps the example quick.) chunksize is
// accepted and, as in Python, has no effect for threads.
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

namespace
{

int square(int item)
{
    if (item == 5)
    {
        std::this_thread::sleep_for(2s);
    }
    return item * item;
}

} // namespace

int main()
{
    weft::thread_pool_executor executor({.max_workers = 10});
    std::vector<int> items{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    int printed = 0;
    try
    {
        for (int sq : executor.map(square, items, {.timeout = 1s, .chunksize = 1}))
        {
            std::printf("%d\n", sq);
            ++printed;
        }
        std::printf("no timeout: unexpected\n");
        return 1;
    }
    catch (const weft::timeout_error& e)
    {
        std::printf("timed out after %d results: %s\n", printed, e.what());
    }
    executor.shutdown();
    return printed == 4 ? 0 : 1;
}
