#define BOOST_TEST_MODULE future
// CPython's test_concurrent_futures FutureTests, and co_await of a future from event loops.
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/run_task.hpp"

using namespace std::chrono_literals;
using weft::future;
using weft::promise;
using weft::task;

namespace
{

// A future in each of Python's states, as the CPython tests build them.
struct states
{
    promise<int> pending_p, running_p, cancelled_p, exception_p, success_p;
    future<int> pending = pending_p.get_future();
    future<int> running = running_p.get_future();
    future<int> cancelled = cancelled_p.get_future();
    future<int> exception = exception_p.get_future();
    future<int> success = success_p.get_future();
    states()
    {
        running_p.set_running_or_notify_cancel();
        cancelled.cancel();
        exception_p.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
        success_p.set_result(42);
    }
};

// Completes `p` with `value` from another thread after `delay`.
std::jthread set_later(promise<int>& p, int value, std::chrono::milliseconds delay)
{
    return std::jthread(
        [&p, value, delay]
        {
            std::this_thread::sleep_for(delay);
            p.set_result(value);
        });
}

} // namespace

BOOST_AUTO_TEST_CASE(done_is_true_for_cancelled_failed_and_finished_futures_only)
{
    states s;
    BOOST_TEST(!s.pending.done());
    BOOST_TEST(!s.running.done());
    BOOST_TEST(s.cancelled.done());
    BOOST_TEST(s.exception.done());
    BOOST_TEST(s.success.done());
}

BOOST_AUTO_TEST_CASE(running_is_true_only_while_running)
{
    states s;
    BOOST_TEST(!s.pending.running());
    BOOST_TEST(s.running.running());
    BOOST_TEST(!s.cancelled.running());
    BOOST_TEST(!s.exception.running());
    BOOST_TEST(!s.success.running());
}

BOOST_AUTO_TEST_CASE(cancelled_is_true_only_after_a_successful_cancel)
{
    states s;
    BOOST_TEST(!s.pending.cancelled());
    BOOST_TEST(!s.running.cancelled());
    BOOST_TEST(s.cancelled.cancelled());
    BOOST_TEST(!s.exception.cancelled());
    BOOST_TEST(!s.success.cancelled());
}

BOOST_AUTO_TEST_CASE(cancel_succeeds_while_pending_and_again_once_cancelled_only)
{
    states s;
    BOOST_TEST(s.pending.cancel());
    BOOST_TEST(s.pending.cancelled());
    BOOST_TEST(s.pending.cancel()); // idempotent
    BOOST_TEST(!s.running.cancel());
    BOOST_TEST(s.running.running());
    BOOST_TEST(!s.exception.cancel());
    BOOST_TEST(!s.success.cancel());
    BOOST_TEST(s.success.result() == 42);
}

BOOST_AUTO_TEST_CASE(result_with_timeout_throws_timeout_error_or_returns_the_value)
{
    states s;
    BOOST_CHECK_THROW(s.pending.result(0ms), weft::timeout_error);
    BOOST_CHECK_THROW(s.running.result(0ms), weft::timeout_error);
    BOOST_CHECK_THROW(s.cancelled.result(0ms), weft::operation_cancelled);
    BOOST_CHECK_THROW(s.exception.result(0ms), std::runtime_error);
    BOOST_TEST(s.success.result(0ms) == 42);
}

BOOST_AUTO_TEST_CASE(result_with_a_negative_timeout_polls)
{
    states s;
    auto start = std::chrono::steady_clock::now();
    BOOST_CHECK_THROW(s.pending.result(-5s), weft::timeout_error);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 1s));
}

BOOST_AUTO_TEST_CASE(result_timeout_elapses_no_earlier_than_asked)
{
    promise<int> p;
    auto start = std::chrono::steady_clock::now();
    BOOST_CHECK_THROW(p.get_future().result(50ms), weft::timeout_error);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 50ms));
}

BOOST_AUTO_TEST_CASE(result_with_success_waits_for_another_thread)
{
    promise<int> p;
    auto setter = set_later(p, 7, 20ms);
    BOOST_TEST(p.get_future().result(10s) == 7);
}

BOOST_AUTO_TEST_CASE(result_with_cancel_wakes_the_waiter_with_operation_cancelled)
{
    promise<int> p;
    future<int> f = p.get_future();
    std::jthread canceller(
        [f]() mutable
        {
            std::this_thread::sleep_for(20ms);
            f.cancel();
        });
    BOOST_CHECK_THROW(f.result(10s), weft::operation_cancelled);
}

BOOST_AUTO_TEST_CASE(exception_with_timeout_returns_the_exception_or_null)
{
    states s;
    BOOST_CHECK_THROW(s.pending.exception(0ms), weft::timeout_error);
    BOOST_CHECK_THROW(s.cancelled.exception(0ms), weft::operation_cancelled);
    BOOST_REQUIRE(s.exception.exception(0ms));
    BOOST_CHECK_THROW(std::rethrow_exception(s.exception.exception()), std::runtime_error);
    BOOST_TEST(!s.success.exception(0ms));
}

BOOST_AUTO_TEST_CASE(exception_with_success_waits_for_another_thread)
{
    promise<int> p;
    std::jthread setter(
        [&p]
        {
            std::this_thread::sleep_for(20ms);
            p.set_exception(std::make_exception_ptr(std::logic_error("late")));
        });
    BOOST_TEST(static_cast<bool>(p.get_future().exception(10s)));
}

BOOST_AUTO_TEST_CASE(done_callback_receives_the_future_with_its_result)
{
    promise<int> p;
    int seen = 0;
    p.get_future().add_done_callback([&](const future<int>& f) { seen = f.result(); });
    BOOST_TEST(seen == 0);
    p.set_result(5);
    BOOST_TEST(seen == 5);
}

BOOST_AUTO_TEST_CASE(done_callback_sees_the_exception)
{
    promise<int> p;
    bool saw_exception = false;
    p.get_future().add_done_callback([&](const future<int>& f)
                                     { saw_exception = static_cast<bool>(f.exception()); });
    p.set_exception(std::make_exception_ptr(std::runtime_error("x")));
    BOOST_TEST(saw_exception);
}

BOOST_AUTO_TEST_CASE(done_callback_runs_on_cancel)
{
    promise<int> p;
    bool was_cancelled = false;
    future<int> f = p.get_future();
    f.add_done_callback([&](const future<int>& g) { was_cancelled = g.cancelled(); });
    BOOST_TEST(f.cancel());
    BOOST_TEST(was_cancelled);
}

BOOST_AUTO_TEST_CASE(done_callbacks_run_in_registration_order_and_duplicates_twice)
{
    promise<int> p;
    future<int> f = p.get_future();
    std::vector<int> order;
    auto first = [&](const future<int>&) { order.push_back(1); };
    f.add_done_callback(first);
    f.add_done_callback([&](const future<int>&) { order.push_back(2); });
    f.add_done_callback(first);
    p.set_result(0);
    BOOST_TEST((order == std::vector<int>{1, 2, 1}));
}

BOOST_AUTO_TEST_CASE(done_callback_on_a_done_future_runs_at_once_on_the_caller_thread)
{
    states s;
    std::thread::id ran_on;
    s.success.add_done_callback([&](const future<int>&) { ran_on = std::this_thread::get_id(); });
    BOOST_TEST((ran_on == std::this_thread::get_id()));
    bool ran = false;
    s.cancelled.add_done_callback([&](const future<int>&) { ran = true; });
    BOOST_TEST(ran);
}

BOOST_AUTO_TEST_CASE(done_callback_runs_on_the_completing_thread)
{
    promise<int> p;
    std::atomic<std::thread::id> ran_on;
    p.get_future().add_done_callback([&](const future<int>&)
                                     { ran_on = std::this_thread::get_id(); });
    std::thread::id setter_id;
    std::thread setter(
        [&]
        {
            setter_id = std::this_thread::get_id();
            p.set_result(1);
        });
    setter.join();
    BOOST_TEST((ran_on.load() == setter_id));
}

BOOST_AUTO_TEST_CASE(a_throwing_done_callback_is_reported_and_the_others_still_run)
{
    std::vector<std::string> reported;
    weft::set_callback_error_handler(
        [&](std::exception_ptr e)
        {
            try
            {
                std::rethrow_exception(e);
            }
            catch (const std::exception& ex)
            {
                reported.emplace_back(ex.what());
            }
        });
    promise<int> p;
    bool second_ran = false;
    p.get_future().add_done_callback([](const future<int>&)
                                     { throw std::runtime_error("callback failed"); });
    p.get_future().add_done_callback([&](const future<int>&) { second_ran = true; });
    p.set_result(1);
    weft::set_callback_error_handler({});
    BOOST_TEST(second_ran);
    BOOST_TEST((reported == std::vector<std::string>{"callback failed"}));
}

BOOST_AUTO_TEST_CASE(future_void_carries_completion_and_errors)
{
    promise<void> ok;
    ok.set_result();
    ok.get_future().result();
    promise<void> bad;
    bad.set_exception(std::make_exception_ptr(std::out_of_range("r")));
    BOOST_CHECK_THROW(bad.get_future().result(), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(rvalue_result_moves_a_move_only_value_out)
{
    promise<std::unique_ptr<int>> p;
    p.set_result(std::make_unique<int>(9));
    std::unique_ptr<int> v = p.get_future().result();
    BOOST_TEST(*v == 9);
}

BOOST_AUTO_TEST_CASE(copies_compare_equal_and_hash_alike)
{
    promise<int> p;
    future<int> a = p.get_future();
    future<int> b = a;
    BOOST_TEST((a == b));
    BOOST_TEST((std::hash<future<int>>{}(a) == std::hash<future<int>>{}(b)));
    promise<int> q;
    BOOST_TEST(!(a == q.get_future()));
}

BOOST_AUTO_TEST_CASE(a_default_future_refuses_every_call)
{
    future<int> f;
    BOOST_TEST(!f.valid());
    BOOST_CHECK_THROW((void)f.done(), weft::invalid_state_error);
    BOOST_CHECK_THROW((void)f.result(), weft::invalid_state_error);
}

// ---- co_await from event loops ----

BOOST_AUTO_TEST_CASE(co_await_resumes_on_the_loop_thread_with_the_value)
{
    promise<int> p;
    future<int> f = p.get_future();
    std::thread::id loop_thread = std::this_thread::get_id();
    auto setter = set_later(p, 11, 20ms);
    auto [value, resumed_on] = weft::testing::run_task(
        [](future<int> fut) -> task<std::pair<int, std::thread::id>>
        {
            int v = co_await fut;
            co_return std::pair{v, std::this_thread::get_id()};
        }(f));
    BOOST_TEST(value == 11);
    BOOST_TEST((resumed_on == loop_thread));
}

BOOST_AUTO_TEST_CASE(co_await_of_a_done_future_does_not_suspend)
{
    promise<std::string> p;
    p.set_result("ready");
    std::string v = weft::testing::run_task([](future<std::string> fut) -> task<std::string>
                                            { co_return co_await std::move(fut); }(p.get_future()));
    BOOST_TEST(v == "ready");
}

BOOST_AUTO_TEST_CASE(co_await_rethrows_the_stored_exception)
{
    promise<int> p;
    p.set_exception(std::make_exception_ptr(std::invalid_argument("bad")));
    BOOST_CHECK_THROW(weft::testing::run_task([](future<int> fut) -> task<int>
                                              { co_return co_await fut; }(p.get_future())),
                      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(co_await_of_a_cancelled_future_throws_operation_cancelled)
{
    promise<int> p;
    future<int> f = p.get_future();
    std::jthread canceller(
        [f]() mutable
        {
            std::this_thread::sleep_for(20ms);
            f.cancel();
        });
    BOOST_CHECK_THROW(
        weft::testing::run_task([](future<int> fut) -> task<int> { co_return co_await fut; }(f)),
        weft::operation_cancelled);
}

BOOST_AUTO_TEST_CASE(cancelling_the_await_cancels_a_pending_future)
{
    promise<int> p;
    future<int> f = p.get_future();
    BOOST_CHECK_THROW(weft::testing::run_task(weft::with_timeout(
                          20ms, [](future<int> fut) -> task<int> { co_return co_await fut; }(f))),
                      weft::timeout_error);
    BOOST_TEST(f.cancelled());
}

BOOST_AUTO_TEST_CASE(cancelling_the_await_leaves_a_running_future_running)
{
    promise<int> p;
    BOOST_REQUIRE(p.set_running_or_notify_cancel());
    future<int> f = p.get_future();
    BOOST_CHECK_THROW(weft::testing::run_task(weft::with_timeout(
                          20ms, [](future<int> fut) -> task<int> { co_return co_await fut; }(f))),
                      weft::timeout_error);
    BOOST_TEST(f.running());
    p.set_result(3); // the late result finds nobody waiting and harms nothing
    BOOST_TEST(f.result() == 3);
}

BOOST_AUTO_TEST_CASE(two_loops_await_one_future_at_once)
{
    promise<int> p;
    future<int> f = p.get_future();
    std::atomic<int> sum{0};
    auto await_on_own_loop = [&]
    {
        weft::event_loop loop;
        sum += loop.run([](future<int> fut) -> task<int> { co_return co_await fut; }(f));
    };
    std::jthread a(await_on_own_loop);
    std::jthread b(await_on_own_loop);
    std::this_thread::sleep_for(20ms);
    p.set_result(21);
    a.join();
    b.join();
    BOOST_TEST(sum.load() == 42);
}

BOOST_AUTO_TEST_CASE(a_loop_destroyed_while_awaiting_ignores_the_late_completion)
{
    promise<int> p;
    future<int> f = p.get_future();
    {
        weft::event_loop loop;
        loop.spawn([](future<int> fut) -> task<void> { (void)co_await fut; }(f));
        loop.run([]() -> task<void> { co_await weft::sleep_for(10ms); }());
    }                // the spawned task is destroyed mid-await
    p.set_result(1); // must not touch the destroyed loop
    BOOST_TEST(f.result() == 1);
}

BOOST_AUTO_TEST_CASE(a_stopped_loop_cancels_the_await_even_if_the_future_completes_meanwhile)
{
    promise<int> p;
    future<int> f = p.get_future();
    weft::event_loop loop;
    std::jthread stopper(
        [&]
        {
            std::this_thread::sleep_for(20ms);
            loop.stop();
            p.set_result(4);
        });
    try
    {
        int v = loop.run([](future<int> fut) -> task<int> { co_return co_await fut; }(f));
        BOOST_TEST(v == 4);
    }
    catch (const weft::operation_cancelled&)
    {
        BOOST_TEST(true);
    }
}
