// rlock_non_owner_release: the seeds' ownership examples. An RLock belongs to the thread that
// acquired it: a child thread that releases the main thread's rlock gets an error (Python's
// RuntimeError, weft::invalid_state_error). A plain Lock has no owner, so the same release
// from a child thread works.
//
//   build/examples/threads/rlock_non_owner_release
// prints the child's error for the rlock, then "child task executing" and the lock's state
// for the plain lock; exits 0.

#include <cstdio>
#include <weft/weft.hpp>

int main()
{
    weft::rlock rlock;
    rlock.acquire(); // reentrant lock acquired by main thread

    // Let's attempt to unlock using a child thread.
    bool refused = false;
    weft::thread rlock_child(
        [&]
        {
            try
            {
                rlock.release();
                std::printf("child task executing\n");
            }
            catch (const weft::invalid_state_error& e)
            {
                std::printf("Exception in thread %s: %s\n", weft::current_thread_name().c_str(),
                            e.what());
                refused = true;
            }
        });
    rlock_child.start();
    rlock_child.join();
    rlock.release(); // the owner may

    // "Recognize this isn't a problem with non-reentrant locks."
    weft::lock lock;
    lock.acquire();
    weft::thread lock_child(
        [&]
        {
            std::printf("child task executing\n");
            lock.release();
        });
    lock_child.start();
    lock_child.join();
    std::printf("lock released by the child: locked() = %s\n", lock.locked() ? "true" : "false");
    return refused && !lock.locked() ? 0 : 1;
}
