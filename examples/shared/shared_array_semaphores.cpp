// The seeds' Array program: a shared Array('i', range(5)) and two Semaphore(0) passed to a
// child. The child prints arr[0] and releases sem1; the parent, woken by it, adds 100 to arr[0]
// under the array's lock and releases sem2; the child, woken by that, prints the new value.
//
// Prints (the CPU count and the addresses vary):
//     This machine has 16 CPUs
//     Parent process puts item on queue with id 0x7f...
//     Child process received var = 0 with id 0x7f... from queue
//     Parent process changed the enqueued item to 100
//     After changes by parent process, child process sees var as = 100
//
// Python prints id(arr); here the "id" is where arr[0] is mapped in each process: one memory,
// possibly at two addresses. The child is a forkserver child (the default), which Python's
// Array could not reach: it travels as an argument, by descriptor.
#include <cstdio>
#include <ranges>
#include <stdexcept>
#include <thread>
#include <weft/weft.hpp>

using weft::interprocess::semaphore;

void child_process(semaphore sem1, semaphore sem2, weft::shared_array<int> arr)
{
    std::printf("Child process received var = %d with id %p from queue\n", arr.get(0),
                static_cast<void*>(&arr[0]));
    std::fflush(stdout);
    sem1.release();
    sem2.acquire();

    std::printf("After changes by parent process, child process sees var as = %d\n", arr.get(0));
    std::fflush(stdout);
    if (arr.get(0) != 100)
    {
        throw std::runtime_error("the child did not see the parent's change");
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    semaphore sem1(0);
    semaphore sem2(0);
    std::printf("This machine has %u CPUs\n", std::thread::hardware_concurrency());

    weft::shared_array<int> arr(std::views::iota(0, 5));
    std::printf("Parent process puts item on queue with id %p\n", static_cast<void*>(&arr[0]));
    std::fflush(stdout);

    weft::process process(child_process, sem1, sem2, arr);
    process.start();

    sem1.acquire();

    // change var and verify the change is reflected in the child process
    {
        auto held = arr.get_lock().guard();
        arr[0] += 100;
    }
    std::printf("Parent process changed the enqueued item to %d\n", arr.get(0));
    std::fflush(stdout);
    sem2.release();
    process.join();
    return process.exitcode() == 0 ? 0 : 1;
}
