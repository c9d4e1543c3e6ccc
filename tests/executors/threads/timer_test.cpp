#define BOOST_TEST_MODULE timer
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/threads/bunch.hpp"

// Ports of CPython's test_threading.TimerTests, plus the cancel contract of threading.Timer.

using namespace std::chrono_literals;
using weft::testing::eventually;
using weft::testing::hang_limit;
using weft::testing::timed;

BOOST_AUTO_TEST_CASE(calls_the_function_with_its_arguments_after_the_interval)
{
    std::atomic<int> sum{0};
    std::atomic<bool> called{false};
    std::string name;
    std::mutex name_mutex;
    weft::timer t(
        100ms,
        [&](int a, int b)
        {
            sum = a + b;
            std::lock_guard<std::mutex> held(name_mutex);
            name = weft::current_thread_name();
            called = true;
        },
        2, 3);
    const auto waited = timed(
        [&]
        {
            t.start();
            BOOST_REQUIRE(t.join(hang_limit));
        });
    BOOST_TEST(called.load());
    BOOST_TEST(sum.load() == 5);
    BOOST_TEST((waited >= 100ms));
    BOOST_TEST(name == t.name());
}

BOOST_AUTO_TEST_CASE(cancel_before_firing_means_it_never_runs)
{
    std::atomic<bool> called{false};
    weft::timer t(10s, [&] { called = true; });
    t.start();
    t.cancel();
    // Cancelled, the thread ends at once instead of after the interval.
    BOOST_TEST(t.join(5s));
    BOOST_TEST(!t.is_alive());
    BOOST_TEST(!called.load());
}

BOOST_AUTO_TEST_CASE(cancel_before_start_means_it_never_runs)
{
    std::atomic<bool> called{false};
    weft::timer t(10ms, [&] { called = true; });
    t.cancel();
    t.start();
    BOOST_TEST(t.join(hang_limit));
    BOOST_TEST(!called.load());
}

BOOST_AUTO_TEST_CASE(cancel_after_firing_is_a_noop)
{
    std::atomic<int> calls{0};
    weft::timer t(1ms, [&] { calls.fetch_add(1); });
    t.start();
    BOOST_REQUIRE(t.join(hang_limit));
    t.cancel();
    t.cancel();
    BOOST_TEST(calls.load() == 1);
}

BOOST_AUTO_TEST_CASE(start_twice_throws_invalid_state)
{
    weft::timer t(1ms, [] {});
    t.start();
    try
    {
        t.start();
        BOOST_FAIL("a second start() did not throw");
    }
    catch (const weft::invalid_state_error& e)
    {
        BOOST_TEST(std::string(e.what()).find("threads can only be started once") !=
                   std::string::npos);
    }
    BOOST_TEST(t.join(hang_limit));
}

// test_init_immutable_default_args: each timer keeps its own copy of its arguments.
BOOST_AUTO_TEST_CASE(each_timer_calls_with_its_own_copy_of_the_arguments)
{
    std::mutex calls_mutex;
    std::vector<std::vector<std::string>> calls;
    const auto spy = [&](std::vector<std::string> args)
    {
        std::lock_guard<std::mutex> held(calls_mutex);
        calls.push_back(std::move(args));
    };
    std::vector<std::string> args;
    weft::timer first(10ms, spy, args);
    args.push_back("blah"); // the timer copied args: no effect on it
    weft::timer second(10ms, spy, std::vector<std::string>{});
    first.start();
    second.start();
    BOOST_REQUIRE(first.join(hang_limit));
    BOOST_REQUIRE(second.join(hang_limit));
    BOOST_TEST(calls.size() == 2u);
    BOOST_TEST(calls[0].empty());
    BOOST_TEST(calls[1].empty());
}

BOOST_AUTO_TEST_CASE(a_timer_is_a_named_thread)
{
    weft::timer t({.name = "my-timer"}, 1ms, [] {});
    weft::thread& as_thread = t;
    BOOST_TEST(as_thread.name() == "my-timer");
    BOOST_TEST(!as_thread.is_alive());
    as_thread.start();
    BOOST_TEST(as_thread.join(hang_limit));
}

BOOST_AUTO_TEST_CASE(destroying_a_started_timer_waits_for_its_call)
{
    std::atomic<bool> called{false};
    {
        weft::timer t(50ms, [&] { called = true; });
        t.start();
    }
    BOOST_TEST(called.load());
}

BOOST_AUTO_TEST_CASE(a_negative_interval_fires_at_once)
{
    std::atomic<bool> called{false};
    weft::timer t(-5s, [&] { called = true; });
    t.start();
    BOOST_TEST(t.join(5s));
    BOOST_TEST(called.load());
}
