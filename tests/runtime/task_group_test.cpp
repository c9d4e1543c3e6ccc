#define BOOST_TEST_MODULE task_group
#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "runtime/task_group.hpp"
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

task<void> sleep_then_count(std::chrono::milliseconds delay, int& finished)
{
    const counted in_frame;
    co_await weft::sleep_for(delay);
    ++finished;
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

// Sleeps for `delay` and counts; on waking, records in `most` how many of the children that share
// `asleep` were asleep at once: children run one after another would each see only themselves.
task<void> overlapping_sleep(std::chrono::milliseconds delay, int& asleep, int& most, int& finished)
{
    ++asleep;
    co_await weft::sleep_for(delay);
    most = std::max(most, asleep);
    --asleep;
    ++finished;
}

task<void> fail_after(std::chrono::milliseconds delay, std::string message)
{
    co_await weft::sleep_for(delay);
    throw std::runtime_error(message);
}

long long elapsed_ms(clock_type::time_point start)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start).count();
}

} // namespace

BOOST_AUTO_TEST_SUITE(task_group)

BOOST_AUTO_TEST_CASE(join_waits_for_all_children_which_run_concurrently)
{
    const auto body = []() -> task<void>
    {
        int finished = 0;
        int asleep = 0;
        int most = 0;
        weft::task_group group;
        const auto start = clock_type::now();
        for (int i = 0; i < 3; ++i)
        {
            group.spawn(overlapping_sleep(100ms, asleep, most, finished));
        }
        co_await group.join();
        BOOST_TEST(finished == 3);
        BOOST_TEST(elapsed_ms(start) >= 100);
        // Concurrency is checked by the overlap itself, not by the elapsed time, which a slow
        // machine can stretch.
        BOOST_TEST(most == 3);
        BOOST_TEST(group.size() == 0U);
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(spawn_queues_the_child_to_start_at_the_next_turn)
{
    const auto child = [](bool& started) -> task<void>
    {
        started = true;
        co_return;
    };
    const auto body = [](auto make) -> task<void>
    {
        bool started = false;
        weft::task_group group;
        group.spawn(make(started));
        BOOST_TEST(!started);
        co_await weft::yield();
        BOOST_TEST(started);
        co_await group.join();
    };
    run_task(body(child));
}

BOOST_AUTO_TEST_CASE(size_counts_running_children_and_frames_are_freed_as_they_finish)
{
    counted::alive = 0;
    const auto body = []() -> task<void>
    {
        int finished = 0;
        weft::task_group group;
        group.spawn(sleep_then_count(5ms, finished));
        group.spawn(sleep_then_count(300ms, finished));
        BOOST_TEST(group.size() == 2U);
        co_await weft::sleep_for(100ms);
        BOOST_TEST(finished == 1);
        BOOST_TEST(group.size() == 1U);
        // The finished child's frame is gone before join().
        BOOST_TEST(counted::alive == 1);
        co_await group.join();
        BOOST_TEST(counted::alive == 0);
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(first_exception_cancels_siblings_and_is_rethrown_by_join)
{
    counted::alive = 0;
    const auto late_failure = []() -> task<void>
    {
        try
        {
            co_await weft::sleep_for(10s);
        }
        catch (const weft::operation_cancelled&)
        {
        }
        throw std::logic_error("second");
    };
    const auto body = [](auto make_late) -> task<void>
    {
        bool a = false;
        bool b = false;
        weft::task_group group;
        group.spawn(cancellable_sleeper(a));
        group.spawn(fail_after(20ms, "first"));
        group.spawn(make_late());
        group.spawn(cancellable_sleeper(b));
        const auto start = clock_type::now();
        try
        {
            co_await group.join();
            BOOST_FAIL("join did not throw");
        }
        catch (const std::runtime_error& e)
        {
            BOOST_TEST(std::string(e.what()) == "first");
        }
        BOOST_TEST(a);
        BOOST_TEST(b);
        BOOST_TEST(elapsed_ms(start) < 4000);
        BOOST_TEST(counted::alive == 0);
    };
    run_task(body(late_failure));
}

BOOST_AUTO_TEST_CASE(cancel_stops_every_child_and_join_returns_normally)
{
    const auto body = []() -> task<void>
    {
        bool a = false;
        bool b = false;
        bool c = false;
        weft::task_group group;
        group.spawn(cancellable_sleeper(a));
        group.spawn(cancellable_sleeper(b));
        co_await weft::sleep_for(5ms);
        group.cancel();
        // Spawned after cancel(): born cancelled.
        group.spawn(cancellable_sleeper(c));
        const auto start = clock_type::now();
        co_await group.join();
        BOOST_TEST(a);
        BOOST_TEST(b);
        BOOST_TEST(c);
        BOOST_TEST(elapsed_ms(start) < 4000);
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(spawn_after_join_throws_invalid_state_error)
{
    const auto body = []() -> task<void>
    {
        int finished = 0;
        weft::task_group group;
        group.spawn(sleep_then_count(1ms, finished));
        co_await group.join();
        BOOST_CHECK_THROW(group.spawn(sleep_then_count(1ms, finished)), weft::invalid_state_error);
        // A later join has nothing to wait for.
        co_await group.join();
        BOOST_TEST(finished == 1);
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(spawn_of_an_empty_task_throws_invalid_state_error)
{
    const auto body = []() -> task<void>
    {
        weft::task_group group;
        BOOST_CHECK_THROW(group.spawn(task<void>{}), weft::invalid_state_error);
        co_await group.join();
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(children_may_spawn_siblings_while_join_waits)
{
    const auto parent_child = [](weft::task_group& group, int& finished) -> task<void>
    {
        co_await weft::sleep_for(10ms);
        group.spawn(sleep_then_count(50ms, finished));
        ++finished;
    };
    const auto body = [](auto make) -> task<void>
    {
        int finished = 0;
        weft::task_group group;
        group.spawn(make(group, finished));
        co_await group.join();
        BOOST_TEST(finished == 2);
    };
    run_task(body(parent_child));
}

BOOST_AUTO_TEST_CASE(stop_of_the_joining_task_cancels_the_children)
{
    const auto joiner = [](bool& a, bool& b) -> task<void>
    {
        weft::task_group group;
        group.spawn(cancellable_sleeper(a));
        group.spawn(cancellable_sleeper(b));
        co_await group.join();
    };
    const auto body = [](auto make) -> task<void>
    {
        bool a = false;
        bool b = false;
        const auto start = clock_type::now();
        BOOST_CHECK_THROW(co_await weft::with_timeout(30ms, make(a, b)), weft::timeout_error);
        BOOST_TEST(a);
        BOOST_TEST(b);
        BOOST_TEST(elapsed_ms(start) < 4000);
    };
    run_task(body(joiner));
}

BOOST_AUTO_TEST_CASE(constructor_token_cancels_children_before_join)
{
    const auto body = []() -> task<void>
    {
        std::stop_source parent;
        bool a = false;
        weft::task_group group(parent.get_token());
        group.spawn(cancellable_sleeper(a));
        co_await weft::sleep_for(5ms);
        parent.request_stop();
        co_await weft::sleep_for(5ms);
        BOOST_TEST(a);
        BOOST_TEST(group.size() == 0U);
        co_await group.join();
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(loop_stop_cancels_the_children)
{
    const auto stopper = []() -> task<void>
    {
        co_await weft::sleep_for(10ms);
        weft::event_loop::current()->stop();
    };
    const auto body = [](bool& a, auto make_stopper) -> task<void>
    {
        weft::task_group group;
        group.spawn(cancellable_sleeper(a));
        group.spawn(make_stopper());
        co_await group.join();
    };
    bool a = false;
    weft::event_loop loop;
    const auto start = clock_type::now();
    BOOST_CHECK_THROW(loop.run(body(a, stopper)), weft::operation_cancelled);
    BOOST_TEST(a);
    BOOST_TEST(elapsed_ms(start) < 4000);
}

BOOST_AUTO_TEST_CASE(a_child_cancelled_by_its_own_token_is_the_group_error)
{
    const auto body = []() -> task<void>
    {
        std::stop_source own;
        own.request_stop();
        bool sibling = false;
        weft::task_group group;
        group.spawn(cancellable_sleeper(sibling));
        group.spawn(weft::with_stop_token(own.get_token(),
                                          [](bool& flag) -> task<void>
                                          { co_await cancellable_sleeper(flag); }(sibling)));
        BOOST_CHECK_THROW(co_await group.join(), weft::operation_cancelled);
        BOOST_TEST(sibling);
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(second_concurrent_join_throws_invalid_state_error)
{
    const auto first_joiner = [](weft::task_group& group, bool& done) -> task<void>
    {
        co_await group.join();
        done = true;
    };
    const auto body = [](auto make_joiner) -> task<void>
    {
        int finished = 0;
        bool first_done = false;
        weft::task_group group;
        group.spawn(sleep_then_count(30ms, finished));
        weft::event_loop::current()->spawn(make_joiner(group, first_done));
        co_await weft::yield();
        BOOST_CHECK_THROW(co_await group.join(), weft::invalid_state_error);
        for (int i = 0; i < 200 && !first_done; ++i)
        {
            co_await weft::sleep_for(5ms);
        }
        BOOST_TEST(first_done);
        BOOST_TEST(finished == 1);
    };
    run_task(body(first_joiner));
}

BOOST_AUTO_TEST_CASE(constructing_a_group_off_a_loop_throws_invalid_state_error)
{
    BOOST_CHECK_THROW(weft::task_group group, weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(destructor_with_running_children_cancels_and_waits_for_them)
{
    counted::alive = 0;
    const auto body = []() -> task<void>
    {
        std::vector<std::string> reports;
        weft::event_loop::current()->set_unhandled_exception_handler(
            [&reports](std::exception_ptr error)
            {
                try
                {
                    std::rethrow_exception(error);
                }
                catch (const weft::invalid_state_error& e)
                {
                    reports.emplace_back(e.what());
                }
                catch (...)
                {
                    reports.emplace_back("unexpected exception type");
                }
            });
        bool a = false;
        bool b = false;
        try
        {
            weft::task_group group;
            group.spawn(cancellable_sleeper(a));
            group.spawn(cancellable_sleeper(b));
            co_await weft::sleep_for(5ms);
            throw std::runtime_error("leaves the scope without join");
        }
        catch (const std::runtime_error&)
        {
        }
        // The destructor waited: the children are finished and freed before the scope is left.
        BOOST_TEST(counted::alive == 0);
        BOOST_TEST(a);
        BOOST_TEST(b);
        co_await weft::sleep_for(5ms);
        BOOST_TEST(reports.empty()); // cancellation is not an error worth reporting
        weft::event_loop::current()->set_unhandled_exception_handler({});
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(destructor_reports_the_first_child_error)
{
    const auto failing_on_cancel = []() -> task<void>
    {
        try
        {
            co_await weft::sleep_for(10s);
        }
        catch (const weft::operation_cancelled&)
        {
        }
        throw std::logic_error("cleanup failed");
    };
    const auto body = [](auto make) -> task<void>
    {
        std::string report;
        weft::event_loop::current()->set_unhandled_exception_handler(
            [&report](std::exception_ptr error)
            {
                try
                {
                    std::rethrow_exception(error);
                }
                catch (const std::exception& e)
                {
                    report = e.what();
                }
            });
        {
            weft::task_group group;
            group.spawn(make());
            co_await weft::sleep_for(5ms);
        }
        BOOST_TEST(report == "cleanup failed");
        weft::event_loop::current()->set_unhandled_exception_handler({});
    };
    run_task(body(failing_on_cancel));
}

BOOST_AUTO_TEST_CASE(destructor_on_a_stopped_loop_frees_the_children_without_a_report)
{
    counted::alive = 0;
    const auto body = [](bool& a) -> task<void>
    {
        weft::task_group group;
        group.spawn(cancellable_sleeper(a));
        co_await weft::sleep_for(5ms);
        weft::event_loop::current()->stop();
        co_await weft::sleep_for(10s); // throws operation_cancelled: the group is left unjoined
    };
    int reports = 0;
    bool a = false;
    {
        weft::event_loop loop;
        loop.set_unhandled_exception_handler([&reports](std::exception_ptr) { ++reports; });
        BOOST_CHECK_THROW(loop.run(body(a)), weft::operation_cancelled);
    }
    BOOST_TEST(counted::alive == 0);
    BOOST_TEST(reports == 0);
}

BOOST_AUTO_TEST_CASE(loop_teardown_frees_the_children_of_a_pending_group)
{
    counted::alive = 0;
    const auto owner = [](bool& a, bool& b) -> task<void>
    {
        weft::task_group group;
        group.spawn(cancellable_sleeper(a));
        group.spawn(cancellable_sleeper(b));
        co_await group.join();
    };
    const auto short_run = []() -> task<void> { co_await weft::sleep_for(10ms); };
    bool a = false;
    bool b = false;
    {
        weft::event_loop loop;
        loop.spawn(owner(a, b));
        loop.run(short_run());
        BOOST_TEST(counted::alive == 2);
    }
    BOOST_TEST(counted::alive == 0);
}

BOOST_AUTO_TEST_CASE(ten_thousand_children_run_and_are_freed)
{
    counted::alive = 0;
    const auto body = []() -> task<void>
    {
        int finished = 0;
        weft::task_group group;
        const auto start = clock_type::now();
        for (int i = 0; i < 10'000; ++i)
        {
            group.spawn(sleep_then_count(50ms, finished));
        }
        BOOST_TEST(group.size() == 10'000U);
        BOOST_TEST(counted::alive == 0); // none has started yet
        co_await group.join();
        BOOST_TEST(finished == 10'000);
        BOOST_TEST(counted::alive == 0);
        BOOST_TEST(elapsed_ms(start) < 5000);
    };
    run_task(body());
}

BOOST_AUTO_TEST_SUITE_END()
