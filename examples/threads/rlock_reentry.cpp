// rlock_reentry: the seeds' RLock example. The main thread acquires the reentrant lock twice
// without blocking, but releases it only once: the lock stays held, and the child thread's
// acquire() would block forever (the seed's "uncomment the following line" hang). Here the
// child waits at most 0.5 s, reports it, and then the main thread makes the second release
// and the child runs.
//
//   build/examples/threads/rlock_reentry
// prints the recursion counts, the child's failed attempt, then "child task executing";
// exits 0.

#include <chrono>
#include <cstdio>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

namespace
{

weft::rlock rlock;

void child_task()
{
    if (!rlock.acquire(500ms))
    {
        std::printf("child could not acquire the rlock: the main thread still holds it\n");
        return;
    }
    std::printf("child task executing\n");
    rlock.release();
}

} // namespace

int main()
{
    rlock.acquire();
    rlock.acquire(); // re-entry: no deadlock
    std::printf("main holds the rlock %zu times\n", rlock.recursion_count());

    rlock.release();
    std::printf("after one release main still holds it %zu time(s)\n", rlock.recursion_count());

    weft::thread first(child_task);
    first.start();
    first.join();

    rlock.release(); // the line the seed says to uncomment
    weft::thread second(child_task);
    second.start();
    second.join();
    return 0;
}
