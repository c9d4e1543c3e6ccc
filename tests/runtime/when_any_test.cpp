#define BOOST_TEST_MODULE when_any
#include <chrono>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <variant>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "runtime/when_any.hpp"
#include "support/run_task.hpp"

using namespace std::chrono_literals;
using weft::task;
using weft::testing::run_task;
using clock_type = std::chrono::steady_clock;

namespace
{

// Counts live instances, so that a test can tell that the frames holding them were freed.
struct counted
{
    static inline int alive = 0;
    counted() noexcept { ++alive; }
    counted(const counted&) noexcept { ++alive; }
    counted& operator=(const counted&) = default;
    ~counted() { --alive; }
};

task<int> value_after(int value, std::chrono::milliseconds delay)
{
    co_await weft::sleep_for(delay);
    co_return value;
}

// Returns `value` after `delay`; records whether it was cancelled first, and rethrows.
task<int> cancellable_value(int value, std::chrono::milliseconds delay, bool& cancelled)
{
    const counted in_frame;
    try
    {
        co_await weft::sleep_for(delay);
    }
    catch (const weft::operation_cancelled&)
    {
        cancelled = true;
        throw;
    }
    co_return value;
}

task<int> fail_after(std::chrono::milliseconds delay)
{
    co_await weft::sleep_for(delay);
    throw std::runtime_error("winner failed");
}

long long elapsed_ms(clock_type::time_point start)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start).count();
}

} // namespace

BOOST_AUTO_TEST_SUITE(when_any)

BOOST_AUTO_TEST_CASE(returns_the_fastest_child_and_cancels_the_rest)
{
    counted::alive = 0;
    const auto body = []() -> task<void>
    {
        bool slow_cancelled = false;
        bool slower_cancelled = false;
        bool fast_cancelled = false;
        std::vector<task<int>> tasks;
        tasks.push_back(cancellable_value(1, 10s, slower_cancelled));
        tasks.push_back(cancellable_value(2, 20ms, fast_cancelled));
        tasks.push_back(cancellable_value(3, 5s, slow_cancelled));
        const auto start = clock_type::now();
        const weft::when_any_result<int> result = co_await weft::when_any(std::move(tasks));
        BOOST_TEST(result.index == 1U);
        BOOST_TEST(result.value == 2);
        BOOST_TEST(elapsed_ms(start) < 4000);
        // The losers were cancelled and awaited: their frames are gone by now.
        BOOST_TEST(slower_cancelled);
        BOOST_TEST(slow_cancelled);
        BOOST_TEST(!fast_cancelled);
        BOOST_TEST(counted::alive == 0);
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(winner_exception_is_rethrown_after_the_others_finish)
{
    const auto body = []() -> task<void>
    {
        bool cancelled = false;
        std::vector<task<int>> tasks;
        tasks.push_back(cancellable_value(1, 10s, cancelled));
        tasks.push_back(fail_after(10ms));
        try
        {
            co_await weft::when_any(std::move(tasks));
            BOOST_FAIL("when_any did not throw");
        }
        catch (const std::runtime_error& e)
        {
            BOOST_TEST(std::string(e.what()) == "winner failed");
        }
        BOOST_TEST(cancelled);
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(variadic_form_gives_the_index_and_a_variant)
{
    const auto text = []() -> task<std::string>
    {
        co_await weft::sleep_for(5s);
        co_return "slow";
    };
    const auto body = [](auto make_text) -> task<void>
    {
        auto result =
            co_await weft::when_any(make_text(), value_after(9, 10ms), weft::sleep_for(5s));
        static_assert(
            std::is_same_v<decltype(result.value), std::variant<std::string, int, std::monostate>>);
        BOOST_TEST(result.index == 1U);
        BOOST_TEST(std::get<1>(result.value) == 9);
    };
    run_task(body(text));
}

BOOST_AUTO_TEST_CASE(arguments_of_the_same_type_stay_distinct_by_index)
{
    const auto body = []() -> task<void>
    {
        auto result =
            co_await weft::when_any(value_after(1, 5s), value_after(2, 5s), value_after(3, 10ms));
        BOOST_TEST(result.index == 2U);
        BOOST_TEST(result.value.index() == 2U);
        BOOST_TEST(std::get<2>(result.value) == 3);
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(void_children_give_monostate_values)
{
    const auto nap = [](std::chrono::milliseconds d) -> task<void> { co_await weft::sleep_for(d); };
    const auto body = [](auto make) -> task<std::size_t>
    {
        std::vector<task<void>> tasks;
        tasks.push_back(make(5s));
        tasks.push_back(make(5ms));
        const weft::when_any_result<void> result = co_await weft::when_any(std::move(tasks));
        static_assert(std::is_same_v<decltype(result.value), std::monostate>);
        co_return result.index;
    };
    BOOST_TEST(run_task(body(nap)) == 1U);
}

BOOST_AUTO_TEST_CASE(empty_range_throws_invalid_argument)
{
    const auto body = []() -> task<void> { co_await weft::when_any(std::vector<task<int>>{}); };
    BOOST_CHECK_THROW(run_task(body()), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(what_losers_do_after_the_winner_is_ignored)
{
    // One loser ignores the cancellation and returns a value, another fails: neither changes
    // the outcome.
    const auto stubborn = []() -> task<int>
    {
        try
        {
            co_await weft::sleep_for(5s);
        }
        catch (const weft::operation_cancelled&)
        {
        }
        co_return 100;
    };
    const auto failing = []() -> task<int>
    {
        try
        {
            co_await weft::sleep_for(5s);
        }
        catch (const weft::operation_cancelled&)
        {
        }
        throw std::logic_error("late failure");
    };
    const auto body = [](auto make_stubborn, auto make_failing) -> task<void>
    {
        std::vector<task<int>> tasks;
        tasks.push_back(make_stubborn());
        tasks.push_back(value_after(7, 10ms));
        tasks.push_back(make_failing());
        const auto result = co_await weft::when_any(std::move(tasks));
        BOOST_TEST(result.index == 1U);
        BOOST_TEST(result.value == 7);
    };
    run_task(body(stubborn, failing));
}

BOOST_AUTO_TEST_CASE(a_child_finishing_at_once_wins_and_the_others_still_start_cancelled)
{
    const auto ready = []() -> task<int> { co_return 5; };
    const auto body = [](auto make_ready) -> task<void>
    {
        bool cancelled = false;
        std::vector<task<int>> tasks;
        tasks.push_back(make_ready());
        tasks.push_back(cancellable_value(1, 5s, cancelled));
        const auto start = clock_type::now();
        const auto result = co_await weft::when_any(std::move(tasks));
        BOOST_TEST(result.index == 0U);
        BOOST_TEST(result.value == 5);
        BOOST_TEST(cancelled);
        BOOST_TEST(elapsed_ms(start) < 4000);
    };
    run_task(body(ready));
}

BOOST_AUTO_TEST_CASE(outer_stop_token_cancels_all_children)
{
    std::stop_source source;
    const auto body = [](std::stop_source& stopper) -> task<void>
    {
        bool a = false;
        bool b = false;
        std::jthread other_thread(
            [&stopper]
            {
                std::this_thread::sleep_for(20ms);
                stopper.request_stop();
            });
        BOOST_CHECK_THROW(co_await weft::with_stop_token(
                              stopper.get_token(), weft::when_any(cancellable_value(1, 10s, a),
                                                                  cancellable_value(2, 10s, b))),
                          weft::operation_cancelled);
        BOOST_TEST(a);
        BOOST_TEST(b);
    };
    run_task(body(source));
}

BOOST_AUTO_TEST_CASE(with_timeout_around_when_any_throws_timeout_error)
{
    const auto body = []() -> task<void>
    {
        bool a = false;
        bool b = false;
        BOOST_CHECK_THROW(
            co_await weft::with_timeout(
                20ms, weft::when_any(cancellable_value(1, 10s, a), cancellable_value(2, 10s, b))),
            weft::timeout_error);
        BOOST_TEST(a);
        BOOST_TEST(b);
    };
    run_task(body());
}

BOOST_AUTO_TEST_SUITE_END()
