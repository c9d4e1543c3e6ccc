// deadlock_detected: the seeds' deadlock example, made to end. Two threads each take one lock
// and then want the other's: the classic lock-order deadlock, which in Python hangs forever.
// Here the second acquire has a timeout, so each thread sees acquire() return false, reports
// the deadlock and backs off.
//
// The seed's own code has a further bug: thread_one release()s lock2, which it never acquired
// and nobody holds. Python raises RuntimeError("release unlocked lock"); weft throws
// weft::invalid_state_error, shown at the end.
//
//   build/examples/threads/deadlock_detected
// prints one "deadlock detected" line per thread and the release error; exits 0.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

namespace
{

std::atomic<int> detected{0};

// Takes `first`, then tries for `second` for at most 1 s.
void take_both(weft::lock& first, weft::lock& second, const char* first_name,
               const char* second_name)
{
    auto held = first.guard();
    std::printf("%s acquired %s\n", weft::current_thread_name().c_str(), first_name);
    std::this_thread::sleep_for(200ms); // let the other thread take its lock
    if (second.acquire(1s))
    {
        std::printf("%s acquired %s too\n", weft::current_thread_name().c_str(), second_name);
        second.release();
        return;
    }
    std::printf("%s: deadlock detected, could not acquire %s in 1 s; backing off\n",
                weft::current_thread_name().c_str(), second_name);
    ++detected;
}

} // namespace

int main()
{
    weft::lock lock1;
    weft::lock lock2;

    weft::thread t1({.name = "t1"}, take_both, std::ref(lock1), std::ref(lock2), "lock1", "lock2");
    weft::thread t2({.name = "t2"}, take_both, std::ref(lock2), std::ref(lock1), "lock2", "lock1");
    t1.start();
    t2.start();
    t1.join();
    t2.join();

    // The seed's thread_one: lock1.acquire(); time.sleep(1); lock2.release().
    lock1.acquire();
    try
    {
        lock2.release();
    }
    catch (const weft::invalid_state_error& e)
    {
        std::printf("releasing lock2, which nobody holds: %s\n", e.what());
    }
    lock1.release();
    return detected.load() >= 1 ? 0 : 1;
}
