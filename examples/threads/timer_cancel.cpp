// timer_cancel: the seeds' Timer example. A timer calls say_hi("reader") on its own thread
// after 1 s; the main thread sleeps 2 s and then cancels it, which is a no-op since it has
// fired. A second timer, cancelled before its interval is up, never says hi.
//
//   build/examples/threads/timer_cancel
// prints
//   Thread-1 says Hi reader!
//   the second timer was cancelled in time: it never ran
//   MainThread exiting

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

namespace
{

std::atomic<int> greetings{0};

void say_hi(const std::string& name)
{
    std::printf("%s says Hi %s!\n", weft::current_thread_name().c_str(), name.c_str());
    ++greetings;
}

} // namespace

int main()
{
    weft::timer timer(1s, say_hi, std::string("reader"));
    timer.start();

    std::this_thread::sleep_for(2s);
    timer.cancel(); // it already fired: nothing happens

    weft::timer late(1s, say_hi, std::string("nobody"));
    late.start();
    std::this_thread::sleep_for(100ms);
    late.cancel(); // before the interval: say_hi never runs
    late.join();
    if (greetings.load() == 1)
    {
        std::printf("the second timer was cancelled in time: it never ran\n");
    }

    std::printf("%s exiting\n", weft::current_thread_name().c_str());
    return greetings.load() == 1 ? 0 : 1;
}
