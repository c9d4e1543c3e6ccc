#define BOOST_TEST_MODULE sleep
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <random>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/run_task.hpp"

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using weft::event_loop;
using weft::task;
using weft::testing::run_task;

namespace
{

// Starts `t` running `fn`. A std::jthread made inside a coroutine's body trips GCC 12's
// -Wmaybe-uninitialized (a false positive, in its stop_source) with -fsanitize=address, which
// -Werror turns into a failed build: made out of line, here, it does not.
template <class Fn>
[[gnu::noinline]] void start_thread(std::jthread& t, Fn fn)
{
    t = std::jthread(std::move(fn));
}

} // namespace

BOOST_AUTO_TEST_CASE(sleep_for_waits_at_least_the_duration)
{
    const auto start = steady_clock::now();
    run_task([]() -> task<void> { co_await weft::sleep_for(30ms); }());
    BOOST_TEST((steady_clock::now() - start >= 30ms));
}

BOOST_AUTO_TEST_CASE(sleep_until_a_past_deadline_completes_at_once)
{
    const auto start = steady_clock::now();
    run_task([]() -> task<void> { co_await weft::sleep_until(steady_clock::now() - 1h); }());
    BOOST_TEST((steady_clock::now() - start < 1s));
}

BOOST_AUTO_TEST_CASE(concurrent_sleeps_overlap_instead_of_adding_up)
{
    event_loop loop;
    int finished = 0;
    for (int i = 0; i < 100; ++i)
    {
        loop.spawn(
            [](int& done) -> task<void>
            {
                co_await weft::sleep_for(100ms);
                ++done;
            }(finished));
    }
    const auto start = steady_clock::now();
    loop.run(
        [](int& done) -> task<void>
        {
            while (done < 100)
            {
                co_await weft::sleep_for(5ms);
            }
        }(finished));
    // A hundred sequential sleeps would take ten seconds.
    BOOST_TEST((steady_clock::now() - start < 3s));
}

BOOST_AUTO_TEST_CASE(timers_fire_in_deadline_order)
{
    event_loop loop;
    std::vector<int> order;
    const int delays_ms[] = {50, 10, 40, 20, 30};
    // One base for every deadline: with sleep_for, each deadline would count from the moment its
    // task starts, and a task started 10 ms late (a slow machine) would change the order.
    const auto base = steady_clock::now();
    for (const int delay : delays_ms)
    {
        loop.spawn(
            [](std::vector<int>& out, steady_clock::time_point from, int ms) -> task<void>
            {
                co_await weft::sleep_until(from + std::chrono::milliseconds(ms));
                out.push_back(ms);
            }(order, base, delay));
    }
    loop.run([](steady_clock::time_point from) -> task<void>
             { co_await weft::sleep_until(from + 100ms); }(base));
    BOOST_TEST(order == (std::vector<int>{10, 20, 30, 40, 50}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(stopped_token_cancels_a_pending_sleep)
{
    std::stop_source source;
    const auto sleeper = []() -> task<bool>
    {
        try
        {
            co_await weft::sleep_for(1h);
        }
        catch (const weft::operation_cancelled&)
        {
            co_return true;
        }
        co_return false;
    };
    const auto body = [](std::stop_source& s, auto make) -> task<bool>
    {
        task<bool> t = weft::with_stop_token(s.get_token(), make());
        // The stop lands while the sleeper is suspended in the timer heap.
        weft::event_loop::current()->spawn(
            [](std::stop_source& src) -> task<void>
            {
                co_await weft::sleep_for(10ms);
                src.request_stop();
            }(s));
        co_return co_await std::move(t);
    };
    BOOST_TEST(run_task(body(source, sleeper)));
}

BOOST_AUTO_TEST_CASE(sleep_with_an_already_stopped_token_throws_at_once)
{
    std::stop_source source;
    source.request_stop();
    const auto sleeper = []() -> task<void> { co_await weft::sleep_for(1h); };
    BOOST_CHECK_THROW(run_task(weft::with_stop_token(source.get_token(), sleeper())),
                      weft::operation_cancelled);
}

BOOST_AUTO_TEST_CASE(a_million_pending_timers_all_fire)
{
    constexpr std::size_t count = 1'000'000;
    event_loop loop;
    std::size_t fired = 0;
    std::mt19937 random(42);
    std::uniform_int_distribution<int> delay_ms(0, 500);
    for (std::size_t i = 0; i < count; ++i)
    {
        loop.spawn(
            [](std::size_t& done, std::chrono::milliseconds delay) -> task<void>
            {
                co_await weft::sleep_for(delay);
                ++done;
            }(fired, std::chrono::milliseconds(delay_ms(random))));
    }
    loop.run(
        [](std::size_t& done) -> task<void>
        {
            const auto deadline = steady_clock::now() + 60s;
            while (done < count && steady_clock::now() < deadline)
            {
                co_await weft::sleep_for(10ms);
            }
        }(fired));
    BOOST_TEST(fired == count);
}

// The heap must hand out deadlines in order however sleeps are added and cancelled: sleepers
// with random deadlines, a random half of them cancelled through their own tokens while they
// wait; the rest must wake in deadline order (ties in any order).
BOOST_AUTO_TEST_CASE(timers_fire_in_order_after_random_cancellations)
{
    constexpr int count = 2000;
    event_loop loop;
    std::vector<std::stop_source> sources(count);
    std::vector<steady_clock::time_point> woken;
    std::vector<steady_clock::time_point> deadlines;
    int cancelled = 0;
    std::mt19937 random(7);
    std::uniform_int_distribution<int> delay_us(0, 60'000);
    const auto base = steady_clock::now() + 20ms;
    for (int i = 0; i < count; ++i)
    {
        const auto deadline = base + std::chrono::microseconds(delay_us(random));
        loop.spawn(weft::with_stop_token(sources[static_cast<std::size_t>(i)].get_token(),
                                         [](steady_clock::time_point when,
                                            std::vector<steady_clock::time_point>& out,
                                            int& n) -> task<void>
                                         {
                                             try
                                             {
                                                 co_await weft::sleep_until(when);
                                                 out.push_back(when);
                                             }
                                             catch (const weft::operation_cancelled&)
                                             {
                                                 ++n;
                                             }
                                         }(deadline, woken, cancelled)));
        deadlines.push_back(deadline);
    }
    loop.run(
        [](std::vector<std::stop_source>& s, const std::vector<steady_clock::time_point>& d,
           std::mt19937& r) -> task<void>
        {
            co_await weft::yield(); // every sleeper is in the heap now
            // On a slow machine (a sanitizer build) some deadlines are already past and their
            // sleepers woken but not yet resumed: a stop can no longer cancel those.
            const auto now = steady_clock::now();
            for (std::size_t i = 0; i < s.size(); ++i)
            {
                if (r() % 2 == 0 && d[i] > now)
                {
                    s[i].request_stop();
                }
            }
            co_await weft::sleep_for(150ms);
        }(sources, deadlines, random));
    std::size_t stopped = 0;
    for (const auto& s : sources)
    {
        stopped += s.stop_requested() ? 1 : 0;
    }
    BOOST_TEST(static_cast<std::size_t>(cancelled) == stopped);
    BOOST_TEST(woken.size() == count - stopped);
    BOOST_TEST(std::is_sorted(woken.begin(), woken.end()));
}

// Sleeps under the loop's own token register no stop callback: the loop cancels them itself
// when it is stopped, from its own thread or from another one.
BOOST_AUTO_TEST_CASE(stopping_the_loop_cancels_every_sleep_under_its_token)
{
    for (const bool from_other_thread : {false, true})
    {
        event_loop loop;
        int cancelled = 0;
        constexpr int sleepers = 1000;
        for (int i = 0; i < sleepers; ++i)
        {
            loop.spawn(
                [](int& n, int k) -> task<void>
                {
                    try
                    {
                        co_await weft::sleep_for(std::chrono::milliseconds(1000 + k));
                    }
                    catch (const weft::operation_cancelled&)
                    {
                        ++n;
                    }
                }(cancelled, i));
        }
        std::jthread stopper;
        loop.run(
            [](event_loop& l, bool remote, std::jthread& t) -> task<void>
            {
                co_await weft::yield();
                if (remote)
                {
                    start_thread(t, [&l] { l.stop(); });
                }
                else
                {
                    l.stop();
                }
                try
                {
                    co_await weft::sleep_for(1h); // cancelled as well
                }
                catch (const weft::operation_cancelled&)
                {
                }
                co_await weft::yield(); // the sleepers' handlers run
                // A sleep begun after the stop throws at once.
                bool threw = false;
                try
                {
                    co_await weft::sleep_for(1h);
                }
                catch (const weft::operation_cancelled&)
                {
                    threw = true;
                }
                BOOST_TEST(threw);
            }(loop, from_other_thread, stopper));
        BOOST_TEST(cancelled == sleepers);
    }
}

// stop() from another thread sets the loop's token before its wake-up reaches the loop. A task
// that sees the stop and then awaits must find the sleepers cancelled as well, whether or not the
// wake-up has arrived. The stop callback below runs before the loop's own (libstdc++ calls the
// newest first) and holds the wake-up back until the task has looked.
BOOST_AUTO_TEST_CASE(a_task_that_sees_a_remote_stop_finds_the_sleepers_cancelled)
{
    event_loop loop;
    int cancelled = 0;
    constexpr int sleepers = 10;
    for (int i = 0; i < sleepers; ++i)
    {
        loop.spawn(
            [](int& n) -> task<void>
            {
                try
                {
                    co_await weft::sleep_for(10s);
                }
                catch (const weft::operation_cancelled&)
                {
                    ++n;
                }
            }(cancelled));
    }
    std::atomic<bool> looked{false};
    std::jthread stopper;
    int seen = -1;
    loop.run(
        [](event_loop& l, std::jthread& t, std::atomic<bool>& done_looking, int& n,
           int& seen_out) -> task<void>
        {
            co_await weft::yield(); // the sleepers are asleep
            start_thread(t,
                         [&l, &done_looking]
                         {
                             const std::stop_callback hold(
                                 l.stop_token(),
                                 [&done_looking]
                                 {
                                     const auto give_up = steady_clock::now() + 5s;
                                     while (!done_looking.load() && steady_clock::now() < give_up)
                                     {
                                         std::this_thread::sleep_for(1ms);
                                     }
                                 });
                             l.stop();
                         });
            const auto give_up = steady_clock::now() + 5s;
            while (!l.stopped() && steady_clock::now() < give_up)
            {
                co_await weft::yield();
            }
            try
            {
                co_await weft::sleep_for(0ms);
            }
            catch (const weft::operation_cancelled&)
            {
            }
            co_await weft::yield(); // the sleepers' handlers run
            seen_out = n;
            done_looking.store(true);
        }(loop, stopper, looked, cancelled, seen));
    BOOST_TEST(seen == sleepers);
}
