// lock_counter: the seeds' Lock example with explicit acquire() and release(). thread1 takes
// the lock, sleeps (1 s here, 10 s in the seed), changes the shared state and releases it;
// thread2 blocks in acquire() until then, so it prints 777, never the old 1.
//
//   build/examples/threads/lock_counter
// prints the two threads' acquire/release lines in that order and exits 0 when thread2 saw
// 777.

#include <array>
#include <chrono>
#include <cstdio>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

namespace
{

std::array<int, 3> shared_state = {1, 2, 3};
int seen_by_thread2 = 0;
weft::lock my_lock;

void thread1_operations()
{
    my_lock.acquire();
    std::printf("%s has acquired the lock\n", weft::current_thread_name().c_str());

    std::this_thread::sleep_for(1s);
    shared_state[0] = 777;

    std::printf("%s about to release the lock\n", weft::current_thread_name().c_str());
    my_lock.release();
    std::printf("%s released the lock\n", weft::current_thread_name().c_str());
}

void thread2_operations()
{
    std::printf("%s is attempting to acquire the lock\n", weft::current_thread_name().c_str());
    my_lock.acquire();
    std::printf("%s has acquired the lock\n", weft::current_thread_name().c_str());

    seen_by_thread2 = shared_state[0];
    std::printf("%d\n", shared_state[0]);
    std::printf("%s about to release the lock\n", weft::current_thread_name().c_str());
    my_lock.release();
    std::printf("%s released the lock\n", weft::current_thread_name().c_str());
}

} // namespace

int main()
{
    weft::thread thread1({.name = "thread1"}, thread1_operations);
    thread1.start();
    // As in the seed, thread2 starts right after thread1 has taken the lock (start() returns
    // once thread1 runs; a short pause makes sure it got to acquire()).
    std::this_thread::sleep_for(100ms);
    weft::thread thread2({.name = "thread2"}, thread2_operations);
    thread2.start();

    thread1.join();
    thread2.join();
    return seen_by_thread2 == 777 ? 0 : 1;
}
