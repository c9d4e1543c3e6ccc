#define BOOST_TEST_MODULE with_timeout
#include <chrono>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/run_task.hpp"

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using weft::task;
using weft::testing::run_task;

namespace
{
task<int> slow_value(std::chrono::milliseconds delay, int v)
{
    co_await weft::sleep_for(delay);
    co_return v;
}
} // namespace

BOOST_AUTO_TEST_CASE(returns_the_value_when_the_operation_finishes_first)
{
    BOOST_TEST(run_task(weft::with_timeout(1s, slow_value(1ms, 5))) == 5);
}

BOOST_AUTO_TEST_CASE(a_finished_operation_does_not_wait_for_the_deadline)
{
    const auto start = steady_clock::now();
    BOOST_TEST(run_task(weft::with_timeout(1h, slow_value(1ms, 5))) == 5);
    BOOST_TEST((steady_clock::now() - start < 10s));
}

BOOST_AUTO_TEST_CASE(deadline_first_throws_timeout_error_and_cancels_the_operation)
{
    const auto start = steady_clock::now();
    BOOST_CHECK_THROW(run_task(weft::with_timeout(20ms, slow_value(1h, 5))), weft::timeout_error);
    BOOST_TEST((steady_clock::now() - start < 10s));
}

BOOST_AUTO_TEST_CASE(works_on_a_plain_awaitable_not_only_on_tasks)
{
    const auto body = []() -> task<bool>
    {
        try
        {
            co_await weft::with_timeout(10ms, weft::sleep_for(1h));
        }
        catch (const weft::timeout_error&)
        {
            co_return true;
        }
        co_return false;
    };
    BOOST_TEST(run_task(body()));
}

BOOST_AUTO_TEST_CASE(stop_of_the_callers_token_is_cancellation_not_timeout)
{
    std::stop_source source;
    const auto body = [](std::stop_source& s) -> task<void>
    {
        weft::event_loop::current()->spawn(
            [](std::stop_source& src) -> task<void>
            {
                co_await weft::sleep_for(10ms);
                src.request_stop();
            }(s));
        co_await weft::with_stop_token(s.get_token(), weft::with_timeout(1h, slow_value(1h, 1)));
    };
    BOOST_CHECK_THROW(run_task(body(source)), weft::operation_cancelled);
}

BOOST_AUTO_TEST_CASE(inner_shorter_deadline_fires_first)
{
    const auto body = []() -> task<int>
    {
        try
        {
            co_await weft::with_timeout(1h, weft::with_timeout(10ms, slow_value(1h, 1)));
        }
        catch (const weft::timeout_error&)
        {
            co_return 1;
        }
        co_return 0;
    };
    BOOST_TEST(run_task(body()) == 1);
}

BOOST_AUTO_TEST_CASE(outer_shorter_deadline_reports_timeout_through_the_inner_one)
{
    const auto start = steady_clock::now();
    BOOST_CHECK_THROW(run_task(weft::with_timeout(10ms, weft::with_timeout(1h, slow_value(1h, 1)))),
                      weft::timeout_error);
    BOOST_TEST((steady_clock::now() - start < 10s));
}

BOOST_AUTO_TEST_CASE(exception_of_the_operation_passes_through)
{
    const auto failing = []() -> task<int>
    {
        co_await weft::sleep_for(1ms);
        throw std::logic_error("inner failure");
    };
    BOOST_CHECK_THROW(run_task(weft::with_timeout(1s, failing())), std::logic_error);
}
