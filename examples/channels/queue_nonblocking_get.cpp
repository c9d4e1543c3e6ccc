// The seeds' non-blocking get: two children (fork, as the seed sets) take the parent's 100
// random numbers with get(block=False), each counting what it took, until the queue is empty.
//
//     while not q.empty():
//         try: print(q.get(block=False, timeout=5)); count += 1
//         except: pass
//
// get(false) never blocks: when the other child took the last item first it throws
// weft::queue_empty (Python's queue.Empty), and the loop looks at empty() again. The seed's
// timeout is ignored when block is False; weft has no such combination (get(timeout) blocks up
// to the timeout). Even the empty() test is unnecessary in weft: the loop can just end at
// queue_empty. The items are not printed one by one here; the parent checks that the children
// took 100 in all.
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

void child_process(weft::queue<int> q, weft::queue<int> done)
{
    int count = 0;
    int missed = 0;
    while (!q.empty())
    {
        try
        {
            (void)q.get(false); // q.get_nowait()
            ++count;
        }
        catch (const weft::queue_empty&)
        {
            ++missed; // the other child was faster
        }
    }
    std::printf("child process %s processed %d items from the queue (%d missed)\n",
                weft::current_process_name().c_str(), count, missed);
    done.put(count);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    weft::set_start_method(weft::start_method::fork);
    weft::queue<int> q;
    std::printf("This machine has %u CPUs\n", std::thread::hardware_concurrency());

    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> digit(0, 9);
    for (int i = 0; i < 100; ++i)
    {
        q.put(digit(random));
    }
    std::fflush(stdout);

    weft::queue<int> done;
    weft::process p1(child_process, q, done);
    weft::process p2(child_process, q, done);
    p1.start();
    p2.start();
    p1.join();
    p2.join();

    const int total = done.get(1s) + done.get(1s);
    std::printf("%d items in all\n", total);
    return total == 100 && p1.exitcode() == 0 && p2.exitcode() == 0 ? 0 : 1;
}
