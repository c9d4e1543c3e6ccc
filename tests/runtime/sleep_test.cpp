#define BOOST_TEST_MODULE sleep
#include <chrono>
#include <cstddef>
#include <random>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/run_task.hpp"

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using weft::event_loop;
using weft::task;
using weft::testing::run_task;

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
    for (const int delay : delays_ms)
    {
        loop.spawn(
            [](std::vector<int>& out, int ms) -> task<void>
            {
                co_await weft::sleep_for(std::chrono::milliseconds(ms));
                out.push_back(ms);
            }(order, delay));
    }
    loop.run([]() -> task<void> { co_await weft::sleep_for(100ms); }());
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
