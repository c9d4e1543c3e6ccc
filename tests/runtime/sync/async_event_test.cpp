#define BOOST_TEST_MODULE async_event
#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/loop_helpers.hpp"
#include "support/run_task.hpp"

using namespace std::chrono_literals;
using weft::async_event;
using weft::task;
using weft::testing::run_task;
using weft::testing::spawn;
using weft::testing::under;
using weft::testing::until;

namespace
{

task<void> wait_and_record(async_event& event, std::string& outcome)
{
    outcome = "waiting";
    try
    {
        co_await event.wait();
        outcome = "woken";
    }
    catch (const weft::operation_cancelled&)
    {
        outcome = "cancelled";
    }
    catch (const weft::invalid_state_error&)
    {
        outcome = "invalid_state";
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(new_event_is_clear_and_set_and_clear_toggle_it)
{
    async_event event;
    BOOST_TEST(!event.is_set());
    event.set();
    BOOST_TEST(event.is_set());
    event.set();
    BOOST_TEST(event.is_set());
    event.clear();
    BOOST_TEST(!event.is_set());
}

BOOST_AUTO_TEST_CASE(wait_on_a_set_event_returns_at_once)
{
    run_task(
        []() -> task<void>
        {
            async_event event;
            event.set();
            co_await event.wait();
            co_await event.wait();
            BOOST_TEST(event.is_set());
        }());
}

BOOST_AUTO_TEST_CASE(set_wakes_every_waiter_in_the_order_they_started_waiting)
{
    run_task(
        []() -> task<void>
        {
            async_event event;
            std::vector<int> order;
            int started = 0;
            const auto waiter = [](async_event& e, std::vector<int>& out, int& s,
                                   int id) -> task<void>
            {
                ++s;
                co_await e.wait();
                out.push_back(id);
            };
            for (int id = 0; id < 6; ++id)
            {
                spawn(waiter(event, order, started, id));
            }
            co_await until([&] { return started == 6; });
            event.set();
            co_await until([&] { return order.size() == 6; });
            BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3, 4, 5}),
                       boost::test_tools::per_element());
        }());
}

BOOST_AUTO_TEST_CASE(set_resumes_waiters_through_the_loop_not_inline)
{
    run_task(
        []() -> task<void>
        {
            async_event event;
            std::string outcome;
            spawn(wait_and_record(event, outcome));
            co_await until([&] { return outcome == "waiting"; });
            event.set();
            BOOST_TEST(outcome == "waiting");
            co_await until([&] { return outcome == "woken"; });
        }());
}

BOOST_AUTO_TEST_CASE(waiter_woken_by_set_returns_even_if_cleared_before_it_runs)
{
    run_task(
        []() -> task<void>
        {
            async_event event;
            std::string outcome;
            spawn(wait_and_record(event, outcome));
            co_await until([&] { return outcome == "waiting"; });
            event.set();
            event.clear();
            co_await until([&] { return outcome != "waiting"; });
            BOOST_TEST(outcome == "woken");
        }());
}

BOOST_AUTO_TEST_CASE(wait_after_clear_suspends_until_the_next_set)
{
    run_task(
        []() -> task<void>
        {
            async_event event;
            event.set();
            event.clear();
            std::string outcome;
            spawn(wait_and_record(event, outcome));
            for (int i = 0; i < 5; ++i)
            {
                co_await weft::yield();
            }
            BOOST_TEST(outcome == "waiting");
            event.set();
            co_await until([&] { return outcome == "woken"; });
        }());
}

BOOST_AUTO_TEST_CASE(cancelled_wait_throws_and_the_event_still_wakes_the_others)
{
    run_task(
        []() -> task<void>
        {
            async_event event;
            std::stop_source source;
            std::string cancelled;
            std::string other;
            spawn(under(source.get_token(), wait_and_record(event, cancelled)));
            spawn(wait_and_record(event, other));
            co_await until([&] { return cancelled == "waiting" && other == "waiting"; });
            source.request_stop();
            co_await until([&] { return cancelled == "cancelled"; });
            BOOST_TEST(other == "waiting");
            event.set();
            co_await until([&] { return other == "woken"; });
        }());
}

BOOST_AUTO_TEST_CASE(wait_with_timeout_throws_timeout_error_and_the_event_still_works)
{
    run_task(
        []() -> task<void>
        {
            async_event event;
            const auto start = std::chrono::steady_clock::now();
            BOOST_CHECK_THROW(co_await weft::with_timeout(20ms, event.wait()), weft::timeout_error);
            BOOST_TEST((std::chrono::steady_clock::now() - start >= 20ms));
            std::string outcome;
            spawn(wait_and_record(event, outcome));
            co_await until([&] { return outcome == "waiting"; });
            event.set();
            co_await until([&] { return outcome == "woken"; });
            co_await weft::with_timeout(1s, event.wait());
        }());
}

BOOST_AUTO_TEST_CASE(one_set_wakes_ten_thousand_waiters)
{
    run_task(
        []() -> task<void>
        {
            constexpr int waiters = 10'000;
            async_event event;
            int woken = 0;
            const auto waiter = [](async_event& e, int& count) -> task<void>
            {
                co_await e.wait();
                ++count;
            };
            for (int i = 0; i < waiters; ++i)
            {
                spawn(waiter(event, woken));
            }
            co_await weft::yield();
            event.set();
            co_await until([&] { return woken == waiters; });
        }());
}

BOOST_AUTO_TEST_CASE(destroying_an_event_with_waiters_resumes_them_with_invalid_state)
{
    run_task(
        []() -> task<void>
        {
            std::optional<async_event> event(std::in_place);
            std::string outcome;
            spawn(wait_and_record(*event, outcome));
            co_await until([&] { return outcome == "waiting"; });
            event.reset();
            co_await until([&] { return outcome != "waiting"; });
            BOOST_TEST(outcome == "invalid_state");
        }());
}

BOOST_AUTO_TEST_CASE(waiter_destroyed_while_queued_leaves_the_queue)
{
    async_event event; // outlives the loop, whose teardown destroys the waiter's frame
    std::string outcome;
    {
        weft::event_loop loop;
        loop.run(
            [](async_event& e, std::string& out) -> task<void>
            {
                spawn(wait_and_record(e, out));
                co_await until([&] { return out == "waiting"; });
            }(event, outcome));
    }
    event.set(); // must not touch the destroyed frame
    BOOST_TEST(outcome == "waiting");
}
