// lock_guard_counter: the seeds' `with my_lock:` version of the Lock example. A guard (what
// weft::lock::guard() returns) acquires the lock and releases it at the end of its scope, even
// when the scope is left by an exception; thread1 sleeps 1 s (3 s in the seed).
//
//   build/examples/threads/lock_guard_counter
// prints the same lines as lock_counter, and exits 0 when thread2 saw 777.

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
    {
        auto held = my_lock.guard(); // with my_lock:
        std::printf("%s has acquired the lock\n", weft::current_thread_name().c_str());

        std::this_thread::sleep_for(1s);
        shared_state[0] = 777;

        std::printf("%s about to release the lock\n", weft::current_thread_name().c_str());
    }
    std::printf("%s released the lock\n", weft::current_thread_name().c_str());
}

void thread2_operations()
{
    std::printf("%s is attempting to acquire the lock\n", weft::current_thread_name().c_str());
    {
        auto held = my_lock.guard();
        std::printf("%s has acquired the lock\n", weft::current_thread_name().c_str());

        seen_by_thread2 = shared_state[0];
        std::printf("%d\n", shared_state[0]);
        std::printf("%s about to release the lock\n", weft::current_thread_name().c_str());
    }
    std::printf("%s released the lock\n", weft::current_thread_name().c_str());
}

} // namespace

int main()
{
    weft::thread thread1({.name = "thread1"}, thread1_operations);
    thread1.start();
    std::this_thread::sleep_for(100ms);
    weft::thread thread2({.name = "thread2"}, thread2_operations);
    thread2.start();

    thread1.join();
    thread2.join();
    return seen_by_thread2 == 777 ? 0 : 1;
}
