// The seeds' other fork pitfall: "any threads running in the parent process do not exist in the
// child process". A worker thread of the parent holds a lock when the main thread forks; the
// forked child has only the forking thread, and a copy of the lock that stays locked: the thread
// that would have released it is not there. Python's child hangs in acquire(); here the child
// waits at most a second and says so. A spawned or forkserver child is a fresh program: its lock
// is free, and a thread it wants it starts itself. (weft warns on stderr when fork is used from
// a process that runs other threads: this program is that case on purpose.)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <thread>
#include <weft/weft.hpp>

weft::lock the_lock; // global, as in the seed
std::atomic<bool> holding{false};

long threads_here()
{
    return static_cast<long>(std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                                           std::filesystem::directory_iterator()));
}

void process_task()
{
    const char* name = weft::current_process_name().c_str();
    std::printf("[%s] threads in this process: %ld\n", name, threads_here());
    if (the_lock.acquire(true, std::chrono::seconds(1)))
    {
        std::printf("[%s] the lock was free: nobody here ever held it\n", name);
        the_lock.release();
    }
    else
    {
        std::printf("[%s] the lock is still held after 1 s: the parent's worker thread held it "
                    "at fork time and does not exist here to release it (Python hangs here)\n",
                    name);
    }
    std::fflush(stdout);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    for (const auto method :
         {weft::start_method::fork, weft::start_method::spawn, weft::start_method::forkserver})
    {
        std::atomic<bool> done{false};
        // A worker thread that takes the lock and keeps it for a while, as a logging or an
        // allocator thread might at the moment another thread forks.
        std::thread worker(
            [&]
            {
                the_lock.acquire();
                holding = true;
                while (!done)
                {
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                }
                the_lock.release();
            });
        while (!holding)
        {
            std::this_thread::yield();
        }
        std::printf("--- %s: the parent runs %ld threads; its worker holds the lock\n",
                    weft::to_string(method), threads_here());
        std::fflush(stdout);
        weft::process process({.name = weft::to_string(method), .start_method = method},
                              process_task);
        process.start();
        process.join();
        done = true;
        worker.join();
        holding = false;
        if (process.exitcode() != 0)
        {
            return 1;
        }
    }
    std::printf("done\n");
}
