// barrier_abort: the seeds' broken-barrier example. Five threads wait on a barrier for six
// parties, so it can never trip; after 0.5 s (3 s in the seed) the main thread calls abort()
// and every waiter gets weft::broken_barrier_error (Python's BrokenBarrierError) instead of
// waiting forever.
//
//   build/examples/threads/barrier_abort
// prints five "Currently N threads blocked on barrier" lines, the main thread's notice, and
// five "Barrier broken" lines; exits 0 when all five threads saw the error.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

int main()
{
    constexpr int num_threads = 5;
    weft::barrier barrier(num_threads + 1);
    std::atomic<int> broken{0};

    std::vector<std::unique_ptr<weft::thread>> threads;
    for (int i = 0; i < num_threads; ++i)
    {
        threads.push_back(std::make_unique<weft::thread>(
            [&]
            {
                std::printf("Currently %zu threads blocked on barrier\n", barrier.n_waiting());
                try
                {
                    barrier.wait(30s);
                }
                catch (const weft::broken_barrier_error&)
                {
                    std::printf("Barrier broken\n");
                    ++broken;
                }
            }));
    }
    for (auto& t : threads)
    {
        t->start();
    }

    std::this_thread::sleep_for(500ms);

    std::printf("Main thread about to invoke abort on barrier\n");
    barrier.abort();
    for (auto& t : threads)
    {
        t->join();
    }
    return broken.load() == num_threads ? 0 : 1;
}
