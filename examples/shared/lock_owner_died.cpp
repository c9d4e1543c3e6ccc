// What weft does where Python hangs (SEMANTICS.md, pitfall 14): a child is SIGKILLed while it
// holds an interprocess::lock. Python's Lock is a POSIX semaphore, which stays taken: the
// parent's next acquire() never returns. weft's lock is a robust futex: the kernel tells the
// next acquirer that the holder died, and that acquirer gets the lock, with owner_died().
//
// Prints:
//     child Process-1 holds the lock
//     child killed: exitcode -9
//     parent acquired the lock: true, owner_died: true
//     next acquire: true, owner_died: false
//
// After owner_died() the data the lock guards may be half-updated: check or repair it, then
// release; the lock works as before.
#include <chrono>
#include <cstdio>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

void hold_forever(weft::interprocess::lock lock, weft::interprocess::semaphore holding)
{
    (void)lock.acquire();
    std::printf("child %s holds the lock\n", weft::current_process_name().c_str());
    std::fflush(stdout);
    holding.release();
    std::this_thread::sleep_for(60s); // killed long before
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    weft::interprocess::lock lock;
    weft::interprocess::semaphore holding(0);

    weft::process child(hold_forever, lock, holding);
    child.start();
    if (!holding.acquire(5s))
    {
        return 1;
    }
    child.kill();
    child.join();
    std::printf("child killed: exitcode %d\n", child.exitcode().value_or(0));

    const auto got = lock.acquire(2s); // Python: acquire() blocks forever here
    std::printf("parent acquired the lock: %s, owner_died: %s\n", got ? "true" : "false",
                got.owner_died() ? "true" : "false");
    if (!got)
    {
        return 1;
    }
    lock.release();

    const auto again = lock.acquire(2s);
    std::printf("next acquire: %s, owner_died: %s\n", again ? "true" : "false",
                again.owner_died() ? "true" : "false");
    return got.owner_died() && again && !again.owner_died() ? 0 : 1;
}
