#define BOOST_TEST_MODULE thread_pool_executor_shutdown
// CPython's ExecutorShutdownTest for thread_pool_executor: shutdown waits for queued work, or
// cancels what has not started, or returns at once; submit after it and a waiting shutdown from
// a pool thread are refused.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/thread_pool_tests.hpp"

BOOST_AUTO_TEST_CASE(submit_after_shutdown_is_an_invalid_state_error)
{
    thread_pool_executor pool;
    pool.shutdown();
    BOOST_CHECK_THROW(pool.submit(square, 1), weft::invalid_state_error);
    pool.shutdown(); // idempotent
}

BOOST_AUTO_TEST_CASE(shutdown_waits_for_queued_work_to_finish)
{
    std::atomic<int> done{0};
    std::vector<future<void>> fs;
    {
        thread_pool_executor pool({.max_workers = 2});
        for (int i = 0; i < 20; ++i)
        {
            fs.push_back(pool.submit(
                [&]
                {
                    std::this_thread::sleep_for(1ms);
                    ++done;
                }));
        }
    } // destructor = shutdown(wait = true)
    BOOST_TEST(done.load() == 20);
    for (auto& f : fs)
    {
        BOOST_TEST(f.done());
    }
}

BOOST_AUTO_TEST_CASE(shutdown_with_cancel_futures_cancels_what_has_not_started)
{
    thread_pool_executor pool({.max_workers = 1});
    gate g;
    std::latch started(1);
    auto running = pool.submit(
        [&]
        {
            started.count_down();
            g.pass();
        });
    std::vector<future<int>> queued;
    for (int i = 0; i < 5; ++i)
    {
        queued.push_back(pool.submit(square, i));
    }
    started.wait();
    // The gate opens once shutdown has cancelled the queued calls (or after 10 s, when it did
    // not: they then run and the checks below fail), not after a pause the caller may outlast.
    std::jthread opener(
        [&]
        {
            const auto limit = std::chrono::steady_clock::now() + 10s;
            while (std::chrono::steady_clock::now() < limit &&
                   !std::ranges::all_of(queued, [](const auto& f) { return f.cancelled(); }))
            {
                std::this_thread::sleep_for(1ms);
            }
            g.release();
        });
    pool.shutdown(true, true);
    BOOST_TEST(running.done());
    BOOST_TEST(!running.cancelled());
    for (auto& f : queued)
    {
        BOOST_TEST(f.cancelled());
    }
}

BOOST_AUTO_TEST_CASE(shutdown_without_wait_returns_at_once_and_work_still_finishes)
{
    gate g;
    future<int> f;
    auto start = std::chrono::steady_clock::now();
    {
        thread_pool_executor pool({.max_workers = 1});
        f = pool.submit(
            [&]
            {
                g.pass();
                return 5;
            });
        pool.shutdown(false);
        BOOST_TEST((std::chrono::steady_clock::now() - start < 1s));
        BOOST_TEST(!f.done());
        g.release();
    }
    BOOST_TEST(f.result(0s) == 5);
}

BOOST_AUTO_TEST_CASE(shutdown_with_wait_from_a_pool_thread_is_refused)
{
    thread_pool_executor pool;
    auto f = pool.submit([&] { pool.shutdown(true); });
    BOOST_CHECK_THROW(f.result(10s), weft::invalid_state_error);
}
