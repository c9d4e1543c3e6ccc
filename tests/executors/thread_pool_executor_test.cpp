#define BOOST_TEST_MODULE thread_pool_executor
// CPython's ExecutorTest and ThreadPoolExecutorTest (submit, the worker threads), and the
// initializer tests, for thread_pool_executor; plus co_await of a submit and the release of a
// call once it ran. map and shutdown: thread_pool_executor_map_test.cpp and
// thread_pool_executor_shutdown_test.cpp.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/run_task.hpp"
#include "support/thread_pool_tests.hpp"

namespace
{

std::string os_thread_name()
{
    char name[32] = {};
    ::pthread_getname_np(::pthread_self(), name, sizeof name);
    return name;
}

} // namespace

BOOST_AUTO_TEST_CASE(submit_returns_a_future_of_the_call)
{
    thread_pool_executor pool;
    future<int> f = pool.submit(square, 8);
    BOOST_TEST(f.result(10s) == 64);
    auto g = pool.submit([](const std::string& a, int n) { return a + std::to_string(n); },
                         std::string("n="), 3);
    BOOST_TEST(g.result(10s) == "n=3");
}

BOOST_AUTO_TEST_CASE(submit_of_a_void_call_gives_a_void_future)
{
    thread_pool_executor pool;
    std::atomic<bool> ran{false};
    pool.submit([&] { ran = true; }).result(10s);
    BOOST_TEST(ran.load());
}

BOOST_AUTO_TEST_CASE(an_exception_in_the_call_comes_back_from_result)
{
    thread_pool_executor pool;
    auto f = pool.submit([]() -> int { throw std::out_of_range("index 3"); });
    BOOST_CHECK_THROW(f.result(10s), std::out_of_range);
    BOOST_TEST(static_cast<bool>(f.exception()));
}

BOOST_AUTO_TEST_CASE(max_workers_zero_or_negative_is_an_invalid_argument)
{
    BOOST_CHECK_THROW(thread_pool_executor({.max_workers = 0}), std::invalid_argument);
    BOOST_CHECK_THROW(thread_pool_executor({.max_workers = -1}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(default_max_workers_is_min_32_cores_plus_4)
{
    thread_pool_executor pool;
    int cores = static_cast<int>(std::thread::hardware_concurrency());
    BOOST_TEST(pool.max_workers() == std::min(32, cores + 4));
}

BOOST_AUTO_TEST_CASE(saturation_starts_max_workers_threads_and_no_more)
{
    thread_pool_executor pool({.max_workers = 4});
    gate g;
    std::mutex m;
    std::set<std::thread::id> threads;
    std::vector<future<void>> fs;
    for (int i = 0; i < 12; ++i)
    {
        fs.push_back(pool.submit(
            [&]
            {
                {
                    std::lock_guard lock(m);
                    threads.insert(std::this_thread::get_id());
                }
                g.pass();
            }));
    }
    // Hold the gate until four threads are inside it (a fixed pause is not enough on a slow
    // machine: a thread that had not started by then would find the work done by the others).
    const auto inside = [&]
    {
        std::lock_guard lock(m);
        return threads.size();
    };
    auto until = std::chrono::steady_clock::now() + 10s;
    while (inside() < 4U && std::chrono::steady_clock::now() < until)
    {
        std::this_thread::sleep_for(1ms);
    }
    g.release();
    for (auto& f : fs)
    {
        f.result(10s);
    }
    BOOST_TEST(threads.size() == 4U);
}

BOOST_AUTO_TEST_CASE(an_idle_thread_is_reused_before_a_new_one_starts)
{
    thread_pool_executor pool({.max_workers = 4});
    std::set<std::thread::id> threads;
    for (int i = 0; i < 10; ++i)
    {
        threads.insert(pool.submit([] { return std::this_thread::get_id(); }).result(10s));
    }
    BOOST_TEST(threads.size() == 1U);
}

BOOST_AUTO_TEST_CASE(threads_are_named_after_the_prefix)
{
    thread_pool_executor pool({.thread_name_prefix = "number_cruncher"});
    BOOST_TEST(pool.submit(weft::current_thread_name).result(10s) == "number_cruncher_0");
    BOOST_TEST(pool.submit(os_thread_name).result(10s) == "number_cruncher"); // 15 bytes
    thread_pool_executor unnamed;
    BOOST_TEST(unnamed.submit(os_thread_name).result(10s).rfind("ThreadPoolExec", 0) == 0U);
}

BOOST_AUTO_TEST_CASE(the_initializer_runs_on_every_new_thread_first)
{
    thread_local bool initialized = false;
    std::atomic<int> runs{0};
    thread_pool_executor pool({.max_workers = 2,
                               .initializer = [&]
                               {
                                   initialized = true;
                                   ++runs;
                               }});
    BOOST_TEST(pool.submit([] { return initialized; }).result(10s));
    BOOST_TEST(runs.load() == 1);
}

BOOST_AUTO_TEST_CASE(a_failing_initializer_breaks_the_pool_for_pending_and_later_work)
{
    weft::set_callback_error_handler({});
    thread_pool_executor pool(
        {.max_workers = 1, .initializer = [] { throw std::runtime_error("no init for you"); }});
    auto first = pool.submit(square, 2);
    BOOST_CHECK_THROW(first.result(10s), weft::broken_executor_error);
    BOOST_CHECK_THROW(pool.submit(square, 3), weft::broken_executor_error);
}

BOOST_AUTO_TEST_CASE(co_await_submit_resumes_the_coroutine_with_the_result)
{
    thread_pool_executor pool;
    std::thread::id loop_thread = std::this_thread::get_id();
    auto [value, worker, resumed] = weft::testing::run_task(
        [](thread_pool_executor& p) -> weft::task<std::tuple<int, std::thread::id, std::thread::id>>
        {
            auto [v, w] = co_await p.submit(
                [] {
                    return std::pair{square(12), std::this_thread::get_id()};
                });
            co_return std::tuple{v, w, std::this_thread::get_id()};
        }(pool));
    BOOST_TEST(value == 144);
    BOOST_TEST((worker != loop_thread));
    BOOST_TEST((resumed == loop_thread));
}

BOOST_AUTO_TEST_CASE(the_loop_keeps_running_other_tasks_while_a_submit_is_awaited)
{
    // The call returns only once the loop has ticked five times, which it cannot do if awaiting
    // the call blocks the loop (the call then gives up after 10 s, and the ticks are missing).
    thread_pool_executor pool;
    std::atomic<int> count{0};
    auto [ticks, call_saw_ticks] = weft::testing::run_task(
        [](thread_pool_executor& p, std::atomic<int>& c) -> weft::task<std::pair<int, bool>>
        {
            weft::event_loop::require_current("test").spawn(
                [](std::atomic<int>& n) -> weft::task<void>
                {
                    for (int i = 0; i < 5; ++i)
                    {
                        co_await weft::sleep_for(1ms);
                        ++n;
                    }
                }(c));
            const bool saw = co_await p.submit(
                [&c]
                {
                    const auto until = std::chrono::steady_clock::now() + 10s;
                    while (c.load() < 5 && std::chrono::steady_clock::now() < until)
                    {
                        std::this_thread::sleep_for(1ms);
                    }
                    return c.load() == 5;
                });
            co_return std::pair{c.load(), saw};
        }(pool, count));
    BOOST_TEST(call_saw_ticks);
    BOOST_TEST(ticks == 5);
}

BOOST_AUTO_TEST_CASE(every_future_of_a_busy_pool_completes)
{
    thread_pool_executor pool({.max_workers = 3});
    std::vector<future<int>> fs;
    for (int i = 0; i < 20'000; ++i)
    {
        fs.push_back(pool.submit(square, i % 100));
    }
    long sum = 0;
    for (auto& f : fs)
    {
        sum += f.result(30s);
    }
    long expected = 0;
    for (int i = 0; i < 20'000; ++i)
    {
        expected += (i % 100) * (i % 100);
    }
    BOOST_TEST(sum == expected);
}

BOOST_AUTO_TEST_CASE(bursts_and_pauses_never_strand_a_task)
{
    // Workers go to sleep between bursts and wake one another during them: a lost wake-up
    // would leave a future pending here, and its bounded result() would throw.
    thread_pool_executor pool({.max_workers = 6});
    unsigned seed = 12345;
    auto next = [&seed](unsigned bound)
    {
        seed = seed * 1103515245U + 12345U;
        return (seed >> 16) % bound;
    };
    for (int round = 0; round < 200; ++round)
    {
        std::vector<future<int>> fs;
        unsigned burst = 1 + next(3000);
        for (unsigned i = 0; i < burst; ++i)
        {
            fs.push_back(pool.submit(square, static_cast<int>(i)));
        }
        for (unsigned i = 0; i < burst; ++i)
        {
            BOOST_REQUIRE(fs[i].result(10s) == static_cast<int>(i * i));
        }
        std::this_thread::sleep_for(std::chrono::microseconds(next(300)));
    }
}

BOOST_AUTO_TEST_CASE(the_call_and_its_arguments_are_released_once_it_ran)
{
    // Python drops the work item after running it; a future that kept its call alive would
    // leak a cycle such as an object holding the future of a call that captures the object.
    thread_pool_executor pool;
    auto held = std::make_shared<int>(1);
    std::weak_ptr<int> watch = held;
    future<int> f = pool.submit([h = std::move(held)] { return *h; });
    BOOST_TEST(f.result(10s) == 1);
    BOOST_TEST(watch.expired());
}

BOOST_AUTO_TEST_CASE(a_cancelled_call_releases_its_arguments_without_running)
{
    thread_pool_executor pool({.max_workers = 1});
    gate g;
    auto blocker = pool.submit([&] { g.pass(); });
    auto held = std::make_shared<int>(1);
    std::weak_ptr<int> watch = held;
    future<int> f = pool.submit([h = std::move(held)] { return *h; });
    BOOST_TEST(f.cancel());
    g.release();
    blocker.result(10s);
    pool.shutdown();
    BOOST_TEST(watch.expired());
}
