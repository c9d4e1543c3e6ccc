#define BOOST_TEST_MODULE thread_pool_executor_map
// thread_pool_executor::map: CPython's map tests of ExecutorTest (order, several inputs, a call
// that throws, timeouts) and what a lazy map adds: an endless input read only a window ahead,
// the calls not started cancelled when the range is destroyed, and a shutdown in the middle.
#include <atomic>
#include <chrono>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/thread_pool_tests.hpp"

BOOST_AUTO_TEST_CASE(map_yields_results_in_input_order)
{
    thread_pool_executor pool({.max_workers = 4});
    std::vector<int> in(100);
    std::iota(in.begin(), in.end(), 0);
    std::vector<int> out;
    for (int v : pool.map(square, in))
    {
        out.push_back(v);
    }
    BOOST_REQUIRE(out.size() == in.size());
    for (int i = 0; i < 100; ++i)
    {
        BOOST_TEST(out[static_cast<std::size_t>(i)] == i * i);
    }
}

BOOST_AUTO_TEST_CASE(map_over_two_inputs_stops_at_the_shorter)
{
    thread_pool_executor pool;
    std::vector<int> a{1, 2, 3, 4};
    std::vector<int> b{10, 20};
    std::vector<int> out;
    for (int v : pool.map([](int x, int y) { return x + y; }, a, b))
    {
        out.push_back(v);
    }
    BOOST_TEST((out == std::vector<int>{11, 22}));
}

BOOST_AUTO_TEST_CASE(map_raises_a_call_exception_at_its_position_and_ends)
{
    thread_pool_executor pool;
    std::vector<int> in{1, 2, 0, 4};
    std::vector<int> out;
    auto results = pool.map(
        [](int x)
        {
            if (x == 0)
            {
                throw std::domain_error("zero");
            }
            return 10 / x;
        },
        in);
    auto it = results.begin();
    out.push_back(*it);
    ++it;
    out.push_back(*it);
    BOOST_CHECK_THROW(++it, std::domain_error);
    BOOST_TEST((out == std::vector<int>{10, 5}));
    BOOST_TEST((it == results.end()));
}

BOOST_AUTO_TEST_CASE(map_timeout_counts_from_the_call_and_raises_when_advancing)
{
    thread_pool_executor pool({.max_workers = 2});
    gate g;
    std::vector<int> in{0, 1, 2};
    auto start = std::chrono::steady_clock::now();
    auto results = pool.map(
        [&g](int x)
        {
            if (x > 0)
            {
                g.pass();
            }
            return x;
        },
        in, {.timeout = 1s});
    std::vector<int> out;
    try
    {
        for (int v : results)
        {
            out.push_back(v);
        }
        BOOST_FAIL("no timeout");
    }
    catch (const weft::timeout_error&)
    {
    }
    g.release();
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 1s));
    BOOST_TEST((out == std::vector<int>{0}));
}

BOOST_AUTO_TEST_CASE(map_submits_its_first_calls_before_iteration)
{
    thread_pool_executor pool;
    std::atomic<int> calls{0};
    std::vector<int> in{1, 2};
    auto results = pool.map([&](int x) { return calls += x; }, in);
    auto until = std::chrono::steady_clock::now() + 10s;
    while (calls.load() != 3 && std::chrono::steady_clock::now() < until)
    {
        std::this_thread::sleep_for(1ms);
    }
    BOOST_TEST(calls.load() == 3);
}

BOOST_AUTO_TEST_CASE(map_pulls_an_endless_input_only_a_window_ahead)
{
    thread_pool_executor pool({.max_workers = 2});
    std::atomic<int> pulled{0};
    auto endless = std::views::iota(0) | std::views::transform(
                                             [&](int i)
                                             {
                                                 ++pulled;
                                                 return i;
                                             });
    int taken = 0;
    for (int v : pool.map(square, endless, {.window = 8}))
    {
        BOOST_TEST(v == taken * taken);
        if (++taken == 100)
        {
            break;
        }
    }
    BOOST_TEST(pulled.load() <= 100 + 8);
}

BOOST_AUTO_TEST_CASE(destroying_a_map_early_cancels_the_calls_not_started)
{
    thread_pool_executor pool({.max_workers = 1});
    gate g;
    std::atomic<int> ran{0};
    std::vector<int> in(10, 0);
    {
        auto results = pool.map(
            [&](int)
            {
                ++ran;
                g.pass();
                return 0;
            },
            in, {.window = 10});
        auto until = std::chrono::steady_clock::now() + 10s;
        while (ran.load() == 0 && std::chrono::steady_clock::now() < until)
        {
            std::this_thread::sleep_for(1ms);
        }
    } // closes the range: the nine queued calls are cancelled
    g.release();
    pool.shutdown();
    BOOST_TEST(ran.load() == 1);
}

BOOST_AUTO_TEST_CASE(chunksize_below_one_is_an_invalid_argument)
{
    thread_pool_executor pool;
    std::vector<int> in{1};
    BOOST_CHECK_THROW((void)pool.map(square, in, {.chunksize = 0}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(map_timeout_cancels_the_call_it_was_waiting_for)
{
    // CPython's test_executor_map_current_future_cancel: with one worker busy, the awaited
    // call has not started when the timeout strikes, and must never start.
    thread_pool_executor pool({.max_workers = 1});
    gate g;
    std::atomic<bool> second_ran{false};
    std::vector<int> in{1, 2};
    try
    {
        auto results = pool.map(
            [&](int x)
            {
                if (x == 1)
                {
                    g.pass();
                }
                else
                {
                    second_ran = true;
                }
                return x;
            },
            in, {.timeout = 50ms});
        auto it = results.begin(); // waits for the first: times out
        (void)it;
        BOOST_FAIL("no timeout");
    }
    catch (const weft::timeout_error&)
    {
    }
    g.release();
    pool.shutdown();
    BOOST_TEST(!second_ran.load());
}

BOOST_AUTO_TEST_CASE(map_on_a_shut_down_pool_fails_at_the_call)
{
    thread_pool_executor pool;
    pool.shutdown();
    std::vector<int> in{1, 2};
    BOOST_CHECK_THROW((void)pool.map(square, in), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(map_yields_what_was_submitted_before_a_shutdown_then_the_error)
{
    thread_pool_executor pool({.max_workers = 1});
    std::vector<int> in{1, 2, 3, 4, 5, 6};
    auto results = pool.map(square, in, {.window = 2});
    std::vector<int> out;
    auto it = results.begin();
    out.push_back(*it);
    pool.shutdown(false);
    try
    {
        for (++it; it != results.end(); ++it)
        {
            out.push_back(*it);
        }
        BOOST_FAIL("no error after the shutdown");
    }
    catch (const weft::invalid_state_error&)
    {
    }
    BOOST_TEST((out == std::vector<int>{1, 4}));
}
