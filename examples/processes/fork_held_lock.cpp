// The seeds' fork pitfall, shown without hanging: the parent holds a lock while it forks, so the
// child's copy of the lock is locked forever and Python's child hangs in acquire(). Here the
// child waits at most a second and reports. A spawned or forkserver child has a lock of its own,
// never held, and takes it at once.
#include <chrono>
#include <cstdio>
#include <weft/weft.hpp>

weft::lock the_lock; // global, as in the seed

void process_task()
{
    if (the_lock.acquire(true, std::chrono::seconds(1)))
    {
        std::printf("[%s] I am child process: the lock was free\n",
                    weft::current_process_name().c_str());
        the_lock.release();
    }
    else
    {
        std::printf("[%s] the lock is still held after 1 s: it was copied in the locked state "
                    "and nobody in this process will ever release it (Python hangs here)\n",
                    weft::current_process_name().c_str());
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    for (const auto method :
         {weft::start_method::fork, weft::start_method::spawn, weft::start_method::forkserver})
    {
        weft::process process({.name = weft::to_string(method), .start_method = method},
                              process_task);
        the_lock.acquire(); // acquire the lock just before starting the child
        process.start();
        the_lock.release(); // release it after starting the child
        std::printf("Parent process waiting for child process to finish\n");
        std::fflush(stdout);
        process.join();
    }
    std::printf("done\n");
}
