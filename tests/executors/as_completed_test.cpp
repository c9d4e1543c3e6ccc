#define BOOST_TEST_MODULE as_completed
// CPython's AsCompletedTests: futures in completion order, already-done first, a deadline from
// the call, duplicates once, no reference kept to yielded futures.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
using weft::future;
using weft::promise;

BOOST_AUTO_TEST_CASE(yields_already_done_futures_first_then_in_completion_order)
{
    promise<int> done, second, third;
    done.set_result(0);
    // The range takes its snapshot of what is done when it is made: the others finish only
    // after that (a setter started first could finish them before the snapshot on a slow
    // machine, and they would then count as already done, in input order).
    auto range = weft::as_completed(
        std::vector{second.get_future(), third.get_future(), done.get_future()}, 10s);
    std::jthread setter(
        [&]
        {
            std::this_thread::sleep_for(20ms);
            third.set_result(3);
            std::this_thread::sleep_for(20ms);
            second.set_result(2);
        });
    std::vector<int> order;
    for (const future<int>& f : range)
    {
        order.push_back(f.result());
    }
    BOOST_TEST((order == std::vector<int>{0, 3, 2}));
}

BOOST_AUTO_TEST_CASE(the_deadline_counts_from_the_call_and_names_the_unfinished_count)
{
    promise<int> done, pending1, pending2;
    done.set_result(1);
    auto start = std::chrono::steady_clock::now();
    auto futures = weft::as_completed(
        std::vector{done.get_future(), pending1.get_future(), pending2.get_future()}, 50ms);
    std::vector<int> seen;
    std::string message;
    try
    {
        for (const future<int>& f : futures)
        {
            seen.push_back(f.result());
        }
    }
    catch (const weft::timeout_error& e)
    {
        message = e.what();
    }
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 50ms));
    BOOST_TEST((seen == std::vector<int>{1}));
    BOOST_TEST(message.find("2 (of 3) futures unfinished") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(duplicates_are_yielded_once)
{
    promise<int> p;
    p.set_result(1);
    future<int> f = p.get_future();
    int count = 0;
    for (const future<int>& g : weft::as_completed(std::vector{f, f}))
    {
        (void)g;
        ++count;
    }
    BOOST_TEST(count == 1);
}

BOOST_AUTO_TEST_CASE(zero_timeout_yields_the_done_futures_then_times_out)
{
    promise<int> done, pending;
    done.set_result(1);
    int yielded = 0;
    BOOST_CHECK_THROW(
        for (const future<int>& f
             : weft::as_completed(std::vector{done.get_future(), pending.get_future()}, 0ms)) {
            (void)f;
            ++yielded;
        },
        weft::timeout_error);
    BOOST_TEST(yielded == 1);
}

BOOST_AUTO_TEST_CASE(cancelled_futures_are_yielded_as_completed)
{
    promise<int> p;
    future<int> f = p.get_future();
    std::jthread canceller(
        [f]() mutable
        {
            std::this_thread::sleep_for(20ms);
            f.cancel();
        });
    int yielded = 0;
    for (const future<int>& g : weft::as_completed(std::vector{f}, 10s))
    {
        BOOST_TEST(g.cancelled());
        ++yielded;
    }
    BOOST_TEST(yielded == 1);
}

BOOST_AUTO_TEST_CASE(a_yielded_future_is_not_kept_alive_by_the_range)
{
    std::weak_ptr<weft::detail::future_state<int>> watched;
    {
        promise<int> p;
        watched = p.get_future().shared_state();
        auto range = weft::as_completed(std::vector{p.get_future()}, 10s);
        p.set_result(1);
        for (const future<int>& f : range)
        {
            (void)f;
        }
        p = promise<int>();
        // Only the range is left; it must not hold the yielded state.
        BOOST_TEST(watched.expired());
    }
}
