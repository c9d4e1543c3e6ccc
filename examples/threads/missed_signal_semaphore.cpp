// missed_signal_semaphore: the seeds' missed-signal fix. Thread 2 signals before thread 1
// waits; a condition variable would lose that notification, but a semaphore counts it, so
// thread 1's acquire() returns at once. The seed builds the semaphore with Semaphore(-2),
// which Python rejects with ValueError; weft throws std::invalid_argument, shown first, and
// the program goes on with the value the seed's comment means: zero.
//
//   build/examples/threads/missed_signal_semaphore
// prints the error for -2, the release, and thread 1's acquire after a 1 s delay (3 s in the
// seed); exits 0.

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

int main()
{
    try
    {
        weft::semaphore bad(-2);
    }
    catch (const std::invalid_argument& e)
    {
        std::printf("semaphore(-2): %s\n", e.what());
    }

    weft::semaphore sem(0); // initialize with zero
    bool acquired = false;

    // Start thread 2 first, which invokes release().
    weft::thread thread2(
        [&]
        {
            sem.release();
            std::printf("thread 2 released the semaphore\n");
        });
    thread2.start();

    // Delay starting thread 1.
    std::this_thread::sleep_for(1s);

    weft::thread thread1(
        [&]
        {
            acquired = sem.acquire(5s); // bounded: a lost signal would show as false
            std::printf("thread 1 %s the semaphore\n", acquired ? "acquired" : "timed out on");
        });
    thread1.start();

    thread1.join();
    thread2.join();
    return acquired ? 0 : 1;
}
