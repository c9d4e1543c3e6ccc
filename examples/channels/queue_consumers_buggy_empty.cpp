// The seeds' two-consumer queue: the parent puts 100 random numbers in [0, 10), then two
// children (forkserver, as the seed sets) each run `while not q.empty(): print(q.get())` and
// say how many items they processed.
//
// The bug: empty() is a snapshot. When one item is left, both children can see "not empty",
// one takes it, and the other's get() blocks forever: the seed can hang. To show that safely,
// this port gets with a 100 ms timeout instead and counts the times the timeout fired (each
// one a hang in the seed), and it pauses 1 ms between empty() and get() so that the race shows
// up on most runs. queue_consumers_with_lock.cpp has the fix; the weft idiom is a loop on
// get_nowait() that ends at queue_empty (queue_nonblocking_get.cpp). The items are not printed
// one by one here; the parent checks that the children processed 100 in all.
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

struct tally
{
    int processed;
    int stalled; // get() found nothing after empty() said there was something
};

void child_process(weft::queue<int> q, weft::queue<tally> done)
{
    tally count{0, 0};
    while (!q.empty())
    {
        std::this_thread::sleep_for(1ms); // widens the window between empty() and get()
        try
        {
            (void)q.get(100ms); // the seed: q.get(), which would block forever here
            ++count.processed;
        }
        catch (const weft::queue_empty&)
        {
            ++count.stalled;
        }
    }
    std::printf("child process %s processed %d items from the queue (%d stalled get%s)\n",
                weft::current_process_name().c_str(), count.processed, count.stalled,
                count.stalled == 1 ? "" : "s");
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

    weft::queue<tally> done;
    weft::process p1(child_process, q, done);
    weft::process p2(child_process, q, done);
    p1.start();
    p2.start();
    p1.join();
    p2.join();

    const tally first = done.get(1s);
    const tally second = done.get(1s);
    const int stalled = first.stalled + second.stalled;
    std::printf("%d items in all; the seed would have hung %d time%s\n",
                first.processed + second.processed, stalled, stalled == 1 ? "" : "s");
    return first.processed + second.processed == 100 && p1.exitcode() == 0 && p2.exitcode() == 0
               ? 0
               : 1;
}
