// prime_printer_semaphores: the seeds' printer program with two semaphores. A finder thread
// looks for the next prime (slowly: 10 ms per number tried) and hands it over through
// sem_find; a printer thread prints it and hands control back through sem_print, so the two
// strictly alternate. After 1 s (3 s in the seed) the main thread asks both to stop.
//
// The seed can hang at that point: the printer may be blocked in sem_find.acquire() with no
// finder left to release it. Here the main thread releases both semaphores after raising the
// exit flag, and each thread checks the flag after every wake-up.
//
//   build/examples/threads/prime_printer_semaphores
// prints 2, 3, 5, 7, 11, ... one per line, and exits 0 once both threads are joined.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

namespace
{

weft::semaphore sem_find(0);
weft::semaphore sem_print(0);
int prime_holder = 0; // handed from finder to printer through the semaphores
std::atomic<bool> exit_prog{false};
std::atomic<int> printed{0};

bool is_prime(int num)
{
    if (num == 2 || num == 3)
    {
        return true;
    }
    if (num < 2)
    {
        return false; // the seed calls 1 prime; it is not
    }
    for (int div = 2; div <= num / 2; ++div)
    {
        if (num % div == 0)
        {
            return false;
        }
    }
    return true;
}

void printer_thread()
{
    while (!exit_prog)
    {
        // Wait for a prime number to become available.
        sem_find.acquire();
        if (exit_prog)
        {
            break; // woken by main to stop
        }
        std::printf("%d\n", prime_holder);
        prime_holder = 0;
        ++printed;
        // Let the finder thread find the next prime.
        sem_print.release();
    }
}

void finder_thread()
{
    int i = 1;
    while (!exit_prog)
    {
        while (!is_prime(i) && !exit_prog)
        {
            ++i;
            // Slow the thread down so that the output can be seen.
            std::this_thread::sleep_for(10ms);
        }
        prime_holder = i;
        // Let the printer thread know a prime is available, then wait until it is printed.
        sem_find.release();
        sem_print.acquire();
        ++i;
    }
}

} // namespace

int main()
{
    weft::thread printer(printer_thread);
    printer.start();
    weft::thread finder(finder_thread);
    finder.start();

    // Let the threads run for a second.
    std::this_thread::sleep_for(1s);

    exit_prog = true;
    sem_find.release();
    sem_print.release();

    printer.join();
    finder.join();
    return printed.load() > 0 ? 0 : 1;
}
