// The seeds' RLock program (start method fork): the parent holds the rlock while it starts two
// children; each child, once the parent lets go, acquires it five times (it is reentrant: the
// holder never blocks on itself), printing each time, then releases it five times, letting the
// other child in. The parent sleeps 300 ms (the seed: 3 s) before releasing.
//
// Prints (the children may come in either order):
//     I am child process Process-1      (five times)
//     I am child process Process-2      (five times)
//
// Differences from Python: only the thread that acquired an interprocess::rlock may release it
// (it is a robust lock: if a child died holding it, the next acquirer would be told, see
// lock_owner_died.cpp). The children check that they got the lock only after the parent let
// go, and that they held it five deep.
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <weft/weft.hpp>

void child_task(weft::interprocess::rlock rlock, weft::shared_value<bool> parent_released)
{
    for (int i = 0; i < 5; ++i)
    {
        (void)rlock.acquire();
        std::printf("I am child process %s\n", weft::current_process_name().c_str());
        std::fflush(stdout);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!parent_released.get() || rlock.recursion_count() != 5)
    {
        throw std::runtime_error("the rlock did not behave as an rlock");
    }
    for (int i = 0; i < 5; ++i)
    {
        rlock.release();
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    weft::set_start_method(weft::start_method::fork);

    weft::interprocess::rlock rlock;
    weft::shared_value<bool> parent_released(false);
    (void)rlock.acquire();

    weft::process process1(child_task, rlock, parent_released);
    process1.start();

    weft::process process2(child_task, rlock, parent_released);
    process2.start();

    // sleep 300 ms before releasing the lock
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    parent_released.set(true);
    rlock.release();

    process1.join();
    process2.join();
    return process1.exitcode() == 0 && process2.exitcode() == 0 ? 0 : 1;
}
