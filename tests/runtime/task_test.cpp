#define BOOST_TEST_MODULE task
#include <memory>
#include <stdexcept>
#include <string>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/run_task.hpp"

using weft::task;
using weft::testing::run_task;

// Symmetric transfer is a tail call in GCC's optimised code, which is what keeps the stack flat.
// AddressSanitizer's stack instrumentation stops GCC from emitting that tail call, and each
// level then costs kilobytes of stack: under ASan these tests check correctness at a depth the
// default 8 MiB stack holds, and the normal build checks the million.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int deep = 1'000;
#else
constexpr int deep = 1'000'000;
#endif

namespace
{

task<int> forty_two()
{
    co_return 42;
}

task<int> add_one(task<int> inner)
{
    co_return (co_await std::move(inner)) + 1;
}

task<void> throws_runtime_error()
{
    throw std::runtime_error("boom");
    co_return;
}

task<int> completes_synchronously(int i)
{
    co_return i;
}

} // namespace

BOOST_AUTO_TEST_CASE(task_does_not_start_until_awaited)
{
    bool started = false;
    auto make = [](bool& flag) -> task<void>
    {
        flag = true;
        co_return;
    };
    run_task(
        [](bool& flag, auto maker) -> task<void>
        {
            task<void> t = maker(flag);
            BOOST_TEST(!flag);
            co_await std::move(t);
            BOOST_TEST(flag);
        }(started, make));
    BOOST_TEST(started);
}

BOOST_AUTO_TEST_CASE(awaiting_a_task_yields_its_value)
{
    BOOST_TEST(run_task(add_one(forty_two())) == 43);
}

BOOST_AUTO_TEST_CASE(exception_propagates_to_the_awaiter)
{
    const auto caller = []() -> task<std::string>
    {
        try
        {
            co_await throws_runtime_error();
        }
        catch (const std::runtime_error& e)
        {
            co_return e.what();
        }
        co_return "not thrown";
    };
    BOOST_TEST(run_task(caller()) == "boom");
}

BOOST_AUTO_TEST_CASE(run_rethrows_the_exception_of_its_task)
{
    BOOST_CHECK_THROW(run_task(throws_runtime_error()), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(task_of_reference_returns_the_same_object)
{
    static int target = 7;
    const auto ref = []() -> task<int&> { co_return target; };
    int& result = run_task(ref());
    BOOST_TEST(&result == &target);
}

BOOST_AUTO_TEST_CASE(task_of_move_only_value)
{
    const auto make = []() -> task<std::unique_ptr<int>> { co_return std::make_unique<int>(5); };
    BOOST_TEST(*run_task(make()) == 5);
}

BOOST_AUTO_TEST_CASE(million_synchronous_awaits_do_not_grow_the_stack)
{
    const auto loop_body = []() -> task<long>
    {
        long sum = 0;
        for (int i = 0; i < deep; ++i)
        {
            sum += co_await completes_synchronously(1);
        }
        co_return sum;
    };
    BOOST_TEST(run_task(loop_body()) == deep);
}

namespace
{
task<int> nested(int depth)
{
    if (depth == 0)
    {
        co_return 0;
    }
    co_return 1 + co_await nested(depth - 1);
}
} // namespace

BOOST_AUTO_TEST_CASE(deep_chain_of_nested_awaits_completes)
{
    // Each level is a heap frame; symmetric transfer keeps the resumption chain off the stack.
    BOOST_TEST(run_task(nested(deep / 10)) == deep / 10);
}

BOOST_AUTO_TEST_CASE(awaiting_a_moved_from_task_throws_invalid_state)
{
    const auto body = []() -> task<void>
    {
        task<int> t = forty_two();
        task<int> other = std::move(t);
        BOOST_CHECK_THROW(co_await std::move(t), weft::invalid_state_error);
        BOOST_TEST(co_await std::move(other) == 42);
    };
    run_task(body());
}

BOOST_AUTO_TEST_CASE(destroying_an_unstarted_task_frees_its_frame)
{
    auto counter = std::make_shared<int>(0);
    {
        const auto make = [](std::shared_ptr<int> c) -> task<void>
        {
            ++*c;
            co_return;
        };
        task<void> t = make(counter);
        BOOST_TEST(counter.use_count() == 2);
    }
    BOOST_TEST(counter.use_count() == 1);
    BOOST_TEST(*counter == 0);
}

BOOST_AUTO_TEST_CASE(stop_token_is_inherited_by_awaited_tasks)
{
    std::stop_source source;
    const auto child = []() -> task<bool>
    { co_return (co_await weft::this_task::stop_token()).stop_possible(); };
    const auto parent = [](auto make_child) -> task<bool> { co_return co_await make_child(); };
    weft::event_loop loop;
    BOOST_TEST(loop.run(weft::with_stop_token(source.get_token(), parent(child))));
}

BOOST_AUTO_TEST_CASE(task_with_its_own_token_still_stops_with_the_awaiting_task)
{
    std::stop_source own;
    std::stop_source parent;
    const auto sleeper = []() -> task<bool>
    {
        try
        {
            co_await weft::sleep_for(std::chrono::hours(1));
        }
        catch (const weft::operation_cancelled&)
        {
            co_return true;
        }
        co_return false;
    };
    const auto body = [](std::stop_source& stopper, task<bool> child) -> task<bool>
    {
        weft::event_loop::current()->spawn(
            [](std::stop_source& s) -> task<void>
            {
                co_await weft::sleep_for(std::chrono::milliseconds(5));
                s.request_stop();
            }(stopper));
        co_return co_await std::move(child);
    };
    weft::event_loop loop;
    BOOST_TEST(loop.run(weft::with_stop_token(
        parent.get_token(), body(parent, weft::with_stop_token(own.get_token(), sleeper())))));
    BOOST_TEST(!own.stop_requested());
}
