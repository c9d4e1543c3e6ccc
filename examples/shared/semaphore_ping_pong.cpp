// The seeds' Semaphore program: process_A prints "ping" and releases sem1, process_B takes it,
// prints "pong" and releases sem2 for A, until the parent sets the shared exit flag (after
// 300 ms here, 3 s in the seed).
//
// Prints "ping" and "pong" in turn, about six of each.
//
// Unlike the seed, it cannot hang at exit. In the seed, if the flag is set after A has looked at
// it but before B does, A pings and waits on sem2 forever while B has left; or B, having looked
// just before, waits on sem1 forever after A has left. So here each acquire waits at most
// 100 ms and, when nothing came, looks at the flag again. The parent checks that the two
// processes alternated and both ended.
#include <chrono>
#include <cstdio>
#include <thread>
#include <weft/weft.hpp>

using weft::interprocess::semaphore;
using namespace std::chrono_literals;

void process_A(semaphore sem1, semaphore sem2, weft::shared_value<bool> exit,
               weft::shared_value<int> pings)
{
    while (!exit.get())
    {
        std::printf("ping\n");
        std::fflush(stdout);
        pings.set(pings.get() + 1);
        sem1.release();
        while (!sem2.acquire(100ms)) // not sem2.acquire(): B may have left already
        {
            if (exit.get())
            {
                return;
            }
        }
        std::this_thread::sleep_for(50ms);
    }
}

void process_B(semaphore sem1, semaphore sem2, weft::shared_value<bool> exit,
               weft::shared_value<int> pongs)
{
    while (!exit.get())
    {
        if (!sem1.acquire(100ms)) // not sem1.acquire(): A may have left already
        {
            continue;
        }
        std::printf("pong\n");
        std::fflush(stdout);
        pongs.set(pongs.get() + 1);
        sem2.release();
        std::this_thread::sleep_for(50ms);
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    semaphore sem1(0);
    semaphore sem2(0);
    weft::shared_value<bool> exit_prog(false);
    weft::shared_value<int> pings(0);
    weft::shared_value<int> pongs(0);

    weft::process processA(process_A, sem1, sem2, exit_prog, pings);
    processA.start();

    weft::process processB(process_B, sem1, sem2, exit_prog, pongs);
    processB.start();

    // Let the processes run for 300 ms, and until they have played two rounds (a loaded
    // machine may not have run them yet)
    std::this_thread::sleep_for(300ms);
    const auto limit = std::chrono::steady_clock::now() + 10s;
    while (pongs.get() < 2 && std::chrono::steady_clock::now() < limit)
    {
        std::this_thread::sleep_for(10ms);
    }

    exit_prog.set(true);

    const bool ended = processA.join(2s) && processB.join(2s);
    if (!ended)
    {
        processA.kill();
        processB.kill();
        std::printf("a process did not end\n");
        return 1;
    }
    std::printf("%d pings, %d pongs\n", pings.get(), pongs.get());
    const bool alternated = pongs.get() == pings.get() || pongs.get() == pings.get() - 1;
    return processA.exitcode() == 0 && processB.exitcode() == 0 && alternated && pongs.get() >= 2
               ? 0
               : 1;
}
