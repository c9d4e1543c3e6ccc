// prime_printer_events: the seeds' printer program with two events instead of semaphores. The
// finder sets prime_available and waits for prime_printed; the printer waits for
// prime_available, prints, clears it and sets prime_printed. After 1 s (3 s in the seed) the
// main thread raises the exit flag and sets both events so that neither thread stays blocked.
//
//   build/examples/threads/prime_printer_events
// prints 2, 3, 5, 7, 11, ... one per line, and exits 0 once both threads are joined.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

namespace
{

weft::event prime_available;
weft::event prime_printed;
int prime_holder = 0; // handed from finder to printer through the events
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
        return false;
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
        prime_available.wait();
        if (exit_prog)
        {
            break; // the seed would print None here
        }
        std::printf("%d\n", prime_holder);
        prime_holder = 0;
        ++printed;
        // Reset the event, then let the finder thread know that printing is done.
        prime_available.clear();
        prime_printed.set();
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
            std::this_thread::sleep_for(10ms);
        }
        prime_holder = i;
        prime_available.set();
        // Wait for the printer thread to print the prime, then reset the flag.
        prime_printed.wait();
        prime_printed.clear();
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

    std::this_thread::sleep_for(1s);

    exit_prog = true;
    prime_available.set();
    prime_printed.set();

    printer.join();
    finder.join();
    return printed.load() > 0 ? 0 : 1;
}
