// The seeds' two-consumer queue, fixed: the parent puts 100 random numbers in [0, 10), then two
// children (forkserver, as the seed sets) take items until the queue is empty and say how many
// they processed. Here an interprocess::lock makes empty() and get() one step, so the child
// that sees an item is the one that takes it and get() never blocks (the race of
// queue_consumers_buggy_empty.cpp cannot happen).
//
// The weft idiom needs no lock: loop on get_nowait() (Python's get(False)) and stop at
// weft::queue_empty, as queue_nonblocking_get.cpp does. The items are not printed one by one
// here; the parent checks that the children processed 100 in all.
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

void child_process(weft::queue<int> q, weft::interprocess::lock lock, weft::queue<int> done)
{
    int count = 0;
    for (;;)
    {
        {
            auto held = lock.guard(); // with lock:
            if (q.empty())
            {
                break;
            }
            (void)q.get(); // cannot block: nobody else took the item since empty()
        }
        ++count;
        std::this_thread::sleep_for(1ms); // the seed prints the item here
    }
    std::printf("child process %s processed %d items from the queue\n",
                weft::current_process_name().c_str(), count);
    done.put(count);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    weft::set_start_method(weft::start_method::forkserver);
    weft::queue<int> q;
    std::printf("This machine has %u CPUs\n", std::thread::hardware_concurrency());

    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> digit(0, 9);
    for (int i = 0; i < 100; ++i)
    {
        q.put(digit(random));
    }
    std::fflush(stdout);

    weft::interprocess::lock lock;
    weft::queue<int> done;
    weft::process p1(child_process, q, lock, done);
    weft::process p2(child_process, q, lock, done);
    p1.start();
    p2.start();
    p1.join();
    p2.join();

    const int total = done.get(1s) + done.get(1s);
    std::printf("%d items in all\n", total);
    return total == 100 && p1.exitcode() == 0 && p2.exitcode() == 0 ? 0 : 1;
}
