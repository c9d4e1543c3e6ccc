// barrier_action: the seeds' two Barrier examples in one. Five threads each sleep a random
// time (up to 0.5 s here, 5-7 s in the seed), print how many threads are already blocked on
// the barrier, and wait; the barrier's action runs once, in one of the threads, when the last
// one arrives, before any of them is released.
//
//   build/examples/threads/barrier_action
// prints five "Currently N threads blocked on barrier" lines, then "All threads released,
// reported by Thread-K" once; exits 0 when the action ran exactly once.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

int main()
{
    constexpr int num_threads = 5;
    std::atomic<int> actions{0};
    weft::barrier barrier(num_threads,
                          [&]
                          {
                              std::printf("All threads released, reported by %s\n",
                                          weft::current_thread_name().c_str());
                              ++actions;
                          });

    std::vector<std::unique_ptr<weft::thread>> threads;
    for (int i = 0; i < num_threads; ++i)
    {
        // Each thread gets its own delay, drawn here: std::mt19937 is not thread-safe.
        static std::mt19937 random{std::random_device{}()};
        const auto delay =
            std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 500)(random));
        threads.push_back(std::make_unique<weft::thread>(
            [&barrier, delay]
            {
                std::this_thread::sleep_for(delay);
                std::printf("Currently %zu threads blocked on barrier\n", barrier.n_waiting());
                barrier.wait(30s);
            }));
    }
    for (auto& t : threads)
    {
        t->start();
    }
    for (auto& t : threads)
    {
        t->join();
    }
    return actions.load() == 1 ? 0 : 1;
}
