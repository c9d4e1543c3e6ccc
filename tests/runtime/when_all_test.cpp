#define BOOST_TEST_MODULE when_all
#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "runtime/when_all.hpp"
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

task<void> sleep_task(std::chrono::milliseconds delay)
{
    co_await weft::sleep_for(delay);
}

// Sleeps for `delay`; on waking, records in `most` how many of the children that share `asleep`
// were asleep at once: children run one after another would each see only themselves.
task<void> overlapping_sleep(std::chrono::milliseconds delay, int& asleep, int& most)
{
    ++asleep;
    co_await weft::sleep_for(delay);
    most = std::max(most, asleep);
    --asleep;
}

task<void> fail_after(std::chrono::milliseconds delay, std::string message)
{
    co_await weft::sleep_for(delay);
    throw std::runtime_error(message);
}

// Sleeps for a long time; records whether it was cancelled, and rethrows.
task<void> cancellable_sleeper(bool& cancelled)
{
    const counted in_frame;
    try
    {
        co_await weft::sleep_for(10s);
    }
    catch (const weft::operation_cancelled&)
    {
        cancelled = true;
        throw;
    }
}

long long elapsed_ms(clock_type::time_point start)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start).count();
}

} // namespace

BOOST_AUTO_TEST_SUITE(when_all)

BOOST_AUTO_TEST_CASE(three_sleeps_run_concurrently)
{
    // Concurrency is checked by the overlap itself, not by the elapsed time, which a slow
    // machine can stretch.
    const auto body = []() -> task<std::pair<long long, int>>
    {
        int asleep = 0;
        int most = 0;
        const auto start = clock_type::now();
        co_await weft::when_all(overlapping_sleep(100ms, asleep, most),
                                overlapping_sleep(100ms, asleep, most),
                                overlapping_sleep(100ms, asleep, most));
        co_return std::pair{elapsed_ms(start), most};
    };
    const auto [took, most] = run_task(body());
    BOOST_TEST(took >= 100);
    BOOST_TEST(most == 3);
}

BOOST_AUTO_TEST_CASE(results_come_in_argument_order_whatever_the_finishing_order)
{
    const auto body = []() -> task<std::tuple<int, int, int>>
    {
        co_return co_await weft::when_all(value_after(1, 60ms), value_after(2, 30ms),
                                          value_after(3, 0ms));
    };
    BOOST_TEST((run_task(body()) == std::tuple<int, int, int>{1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(void_children_give_monostate)
{
    const auto body = []() -> task<bool>
    {
        auto [a, number, b] =
            co_await weft::when_all(sleep_task(1ms), value_after(7, 1ms), sleep_task(2ms));
        static_assert(std::is_same_v<decltype(a), std::monostate>);
        static_assert(std::is_same_v<decltype(b), std::monostate>);
        co_return number == 7;
    };
    BOOST_TEST(run_task(body()));
}

BOOST_AUTO_TEST_CASE(plain_awaitables_run_alongside_tasks)
{
    const auto body = []() -> task<long long>
    {
        const auto start = clock_type::now();
        auto [nothing, value] =
            co_await weft::when_all(weft::sleep_for(500ms), value_after(5, 500ms));
        static_assert(std::is_same_v<decltype(nothing), std::monostate>);
        BOOST_TEST(value == 5);
        co_return elapsed_ms(start);
    };
    // One after the other they would take a second; together, half of that (the margin absorbs
    // a slow machine: with 80 ms sleeps and a 150 ms bound it did not always).
    BOOST_TEST(run_task(body()) < 1000);
}

BOOST_AUTO_TEST_CASE(reference_results_refer_to_the_original_objects)
{
    static int first = 1;
    static int second = 2;
    const auto ref = [](int& target) -> task<int&> { co_return target; };
    const auto body = [](auto make) -> task<bool>
    {
        auto [a, b] = co_await weft::when_all(make(first), make(second));
        std::vector<task<int&>> tasks;
        tasks.push_back(make(second));
        std::vector<std::reference_wrapper<int>> refs = co_await weft::when_all(std::move(tasks));
        co_return &a == &first&&& b == &second&&& refs.at(0).get() == &second;
    };
    BOOST_TEST(run_task(body(ref)));
}

BOOST_AUTO_TEST_CASE(move_only_results_are_moved_out)
{
    const auto make = [](int v) -> task<std::unique_ptr<int>>
    {
        co_await weft::sleep_for(1ms);
        co_return std::make_unique<int>(v);
    };
    const auto body = [](auto maker) -> task<int>
    {
        auto [a, b] = co_await weft::when_all(maker(3), maker(4));
        co_return *a + *b;
    };
    BOOST_TEST(run_task(body(make)) == 7);
}

BOOST_AUTO_TEST_CASE(vector_of_tasks_gives_values_in_vector_order)
{
    const auto body = []() -> task<std::vector<int>>
    {
        std::vector<task<int>> tasks;
        for (int i = 0; i < 5; ++i)
        {
            tasks.push_back(value_after(i, std::chrono::milliseconds(50 - 10 * i)));
        }
        co_return co_await weft::when_all(std::move(tasks));
    };
    BOOST_TEST((run_task(body()) == std::vector<int>{0, 1, 2, 3, 4}));
}

BOOST_AUTO_TEST_CASE(vector_of_void_tasks_runs_them_concurrently)
{
    const auto body = []() -> task<int>
    {
        int asleep = 0;
        int most = 0;
        std::vector<task<void>> tasks;
        for (int i = 0; i < 3; ++i)
        {
            tasks.push_back(overlapping_sleep(100ms, asleep, most));
        }
        co_await weft::when_all(std::move(tasks));
        co_return most;
    };
    BOOST_TEST(run_task(body()) == 3);
}

BOOST_AUTO_TEST_CASE(empty_inputs_complete_at_once)
{
    const auto body = []() -> task<bool>
    {
        std::tuple<> none = co_await weft::when_all();
        (void)none;
        std::vector<int> values = co_await weft::when_all(std::vector<task<int>>{});
        co_await weft::when_all(std::vector<task<void>>{});
        co_return values.empty();
    };
    BOOST_TEST(run_task(body()));
}

BOOST_AUTO_TEST_CASE(nothing_starts_before_the_await_and_children_start_in_order)
{
    const auto child = [](std::vector<int>& log, int id) -> task<void>
    {
        log.push_back(id);
        co_await weft::sleep_for(1ms);
    };
    const auto body = [](auto make) -> task<std::vector<int>>
    {
        std::vector<int> log;
        auto all = weft::when_all(make(log, 1), make(log, 2), make(log, 3));
        co_await weft::sleep_for(5ms);
        BOOST_TEST(log.empty());
        co_await std::move(all);
        co_return log;
    };
    BOOST_TEST((run_task(body(child)) == std::vector<int>{1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(synchronous_children_complete_without_a_loop_turn)
{
    const auto ready = [](int v) -> task<int> { co_return v; };
    const auto body = [](auto make) -> task<long>
    {
        std::vector<task<int>> tasks;
        for (int i = 0; i < 100'000; ++i)
        {
            tasks.push_back(make(1));
        }
        long sum = 0;
        // Held by value: `for (x : co_await t)` would bind to the finished task's result, which
        // dies with the task at the end of the range expression.
        const std::vector<int> values = co_await weft::when_all(std::move(tasks));
        for (int v : values)
        {
            sum += v;
        }
        co_return sum;
    };
    BOOST_TEST(run_task(body(ready)) == 100'000);
}

BOOST_AUTO_TEST_CASE(first_exception_wins_and_siblings_are_cancelled_and_awaited)
{
    counted::alive = 0;
    const auto late_failure = [](bool& cancelled) -> task<void>
    {
        try
        {
            co_await weft::sleep_for(10s);
        }
        catch (const weft::operation_cancelled&)
        {
            cancelled = true;
        }
        // Thrown after the first failure: dropped.
        throw std::logic_error("second");
    };
    const auto body = [](auto late) -> task<void>
    {
        bool sleeper_cancelled = false;
        bool late_cancelled = false;
        const auto start = clock_type::now();
        try
        {
            co_await weft::when_all(cancellable_sleeper(sleeper_cancelled),
                                    fail_after(20ms, "first"), late(late_cancelled));
            BOOST_FAIL("when_all did not throw");
        }
        catch (const std::runtime_error& e)
        {
            BOOST_TEST(std::string(e.what()) == "first");
        }
        // Awaited: by the time when_all throws, both siblings have seen the cancellation and
        // their frames are gone.
        BOOST_TEST(sleeper_cancelled);
        BOOST_TEST(late_cancelled);
        BOOST_TEST(counted::alive == 0);
        BOOST_TEST(elapsed_ms(start) < 4000);
    };
    run_task(body(late_failure));
}

BOOST_AUTO_TEST_CASE(no_child_frame_outlives_the_await)
{
    counted::alive = 0;
    const auto holder = [](counted c) -> task<int>
    {
        (void)c;
        co_await weft::sleep_for(5ms);
        co_return 1;
    };
    const auto body = [](auto make) -> task<int>
    {
        std::vector<task<int>> tasks;
        for (int i = 0; i < 10; ++i)
        {
            tasks.push_back(make(counted{}));
        }
        BOOST_TEST(counted::alive == 10);
        auto values = co_await weft::when_all(std::move(tasks));
        co_return counted::alive + static_cast<int>(values.size());
    };
    BOOST_TEST(run_task(body(holder)) == 10);
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
        const auto start = clock_type::now();
        BOOST_CHECK_THROW(co_await weft::with_stop_token(
                              stopper.get_token(),
                              weft::when_all(cancellable_sleeper(a), cancellable_sleeper(b))),
                          weft::operation_cancelled);
        BOOST_TEST(a);
        BOOST_TEST(b);
        BOOST_TEST(elapsed_ms(start) < 4000);
    };
    run_task(body(source));
}

BOOST_AUTO_TEST_CASE(a_child_with_its_own_token_stops_when_that_token_does)
{
    std::stop_source own;
    const auto stop_after = [](std::stop_source& s, std::chrono::milliseconds d) -> task<void>
    {
        co_await weft::sleep_for(d);
        s.request_stop();
    };
    const auto body = [](std::stop_source& s, auto stopper) -> task<bool>
    {
        bool cancelled = false;
        try
        {
            co_await weft::when_all(
                stopper(s, 10ms),
                weft::with_stop_token(s.get_token(), cancellable_sleeper(cancelled)));
        }
        catch (const weft::operation_cancelled&)
        {
        }
        co_return cancelled;
    };
    BOOST_TEST(run_task(body(own, stop_after)));
}

BOOST_AUTO_TEST_CASE(with_timeout_around_when_all_throws_timeout_error)
{
    const auto body = []() -> task<void>
    {
        bool a = false;
        bool b = false;
        const auto start = clock_type::now();
        BOOST_CHECK_THROW(co_await weft::with_timeout(
                              30ms, weft::when_all(cancellable_sleeper(a), cancellable_sleeper(b))),
                          weft::timeout_error);
        BOOST_TEST(a);
        BOOST_TEST(b);
        BOOST_TEST(elapsed_ms(start) < 4000);
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(loop_teardown_frees_children_of_a_pending_when_all)
{
    counted::alive = 0;
    {
        weft::event_loop loop;
        bool a = false;
        bool b = false;
        loop.spawn(
            [](bool& x, bool& y) -> task<void>
            { co_await weft::when_all(cancellable_sleeper(x), cancellable_sleeper(y)); }(a, b));
        loop.run(sleep_task(10ms));
        BOOST_TEST(counted::alive == 2);
    }
    BOOST_TEST(counted::alive == 0);
}

BOOST_AUTO_TEST_SUITE_END()
