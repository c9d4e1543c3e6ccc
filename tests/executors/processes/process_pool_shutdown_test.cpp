// process_pool_executor's shutdown: cancel_futures cancels what has not started, wait = false
// lets running calls finish, the destructor waits, and submit() is refused afterwards;
// terminate() ends running calls at once, the way out after a Ctrl-C, and shutdown_within()
// gives them a grace first. Each under the three start methods.
#define BOOST_TEST_MODULE process_pool_shutdown
#define BOOST_TEST_NO_MAIN
#include <atomic>
#include <chrono>
#include <csignal>
#include <signal.h>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/in_a_forked_child.hpp"
#include "support/process_pool_tests.hpp"

using weft::test::zombie_children;
using weft::testing::sleep_then;

BOOST_AUTO_TEST_CASE(shutdown_with_cancel_futures_cancels_what_has_not_started)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            std::vector<future<int>> futures;
            for (int i = 0; i < 20; ++i)
            {
                futures.push_back(pool.submit(sleep_then, 20, i));
            }
            pool.shutdown(true, true);
            int cancelled = 0;
            for (int i = 0; i < 20; ++i)
            {
                BOOST_TEST(futures[i].done());
                if (futures[i].cancelled())
                {
                    ++cancelled;
                }
                else
                {
                    BOOST_TEST(futures[i].result(patience) == i);
                }
            }
            // At most the few written ahead into the worker's ring ran.
            BOOST_TEST(cancelled >= 10);
            BOOST_CHECK_THROW((void)pool.submit(square, 1), weft::invalid_state_error);
            pool.shutdown(true); // idempotent
        }
    }
}

// The bounded shutdown: what waits is cancelled, a call that ends within the grace gives its
// value, and one that would run 20 s more is killed when the grace ends.
BOOST_AUTO_TEST_CASE(shutdown_within_gives_running_calls_their_grace_then_kills_them)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            (void)pool.submit(square, 2).result(patience);
            auto long_call = pool.submit(sleep_then, 20'000, 1);
            auto short_call = pool.submit(sleep_then, 300, 2);
            std::vector<future<int>> waiting;
            for (int i = 0; i < 20; ++i)
            {
                waiting.push_back(pool.submit(sleep_then, 20'000, 3));
            }
            std::this_thread::sleep_for(100ms); // both calls running
            const auto started = std::chrono::steady_clock::now();
            pool.shutdown_within(1s);
            const auto took = std::chrono::steady_clock::now() - started;
            BOOST_TEST(short_call.result(patience) == 2);
            BOOST_CHECK_THROW((void)long_call.result(patience), weft::pool_terminated_error);
            for (auto& f : waiting)
            {
                BOOST_TEST(f.cancelled());
            }
            BOOST_TEST((took >= 900ms)); // the long call had its grace
            BOOST_TEST((took < 10s));
            BOOST_TEST(pool.worker_pids().empty());
            BOOST_TEST(zombie_children() == 0);
            BOOST_CHECK_THROW((void)pool.submit(square, 1), weft::invalid_state_error);
            pool.shutdown(true); // a no-op now
        }
    }
}

BOOST_AUTO_TEST_CASE(shutdown_within_returns_as_soon_as_the_running_calls_end)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            auto call = pool.submit(sleep_then, 200, 7);
            const auto started = std::chrono::steady_clock::now();
            pool.shutdown_within(60s);
            BOOST_TEST((std::chrono::steady_clock::now() - started < 20s));
            BOOST_TEST(call.result(patience) == 7);
        }
    }
}

namespace
{

// What the child of a_ctrl_c_ends_the_pool_in_bounded_time saw, in memory shared with it.
struct interrupt_report
{
    int finished = 0;
    int workers_alive_after_sigint = 0; // the group's SIGINT left the workers running
    int terminated = 0;                 // the running task's future failed so
    long long shutdown_ms = -1;         // terminate() and shutdown(), after the interrupt
};

// In a process group of its own, as a shell runs a job: a pool runs a 20 s task when the
// terminal's Ctrl-C (SIGINT to the whole group) comes. The parent takes it with sigtimedwait
// (as a loop does from a signalfd) and decides to stop. Blocked only now, after the pool's
// threads started: none of them takes it (they block every signal). Not a handler: under
// ThreadSanitizer a child forked from a threaded process ignores every interceptor, the one
// that runs deferred handlers included, so a handler would never run there.
void run_interrupted(interrupt_report& report, start_method method)
{
    process_pool_executor pool({.max_workers = 2, .start_method = method});
    auto long_task = pool.submit(sleep_then, 20000, 1);
    (void)pool.submit(square, 2).result(patience); // the workers are up
    sigset_t interrupt;
    ::sigemptyset(&interrupt);
    ::sigaddset(&interrupt, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &interrupt, nullptr);
    ::kill(0, SIGINT);
    const timespec wait_limit{30, 0};
    if (::sigtimedwait(&interrupt, nullptr, &wait_limit) != SIGINT)
    {
        return;
    }
    std::this_thread::sleep_for(100ms);
    int alive = 0;
    for (const pid_t worker : pool.worker_pids())
    {
        alive += ::kill(worker, 0) == 0 ? 1 : 0;
    }
    report.workers_alive_after_sigint = alive == 2 ? 1 : 0;
    const auto started = std::chrono::steady_clock::now();
    pool.terminate();
    pool.shutdown(true);
    report.shutdown_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    try
    {
        (void)long_task.result(patience);
    }
    catch (const weft::pool_terminated_error&)
    {
        report.terminated = 1;
    }
    report.finished = 1;
}

} // namespace

// Workers ignore the terminal's SIGINT; the parent decides, and terminate() ends the pool in
// bounded time although a task would run 20 s more (shutdown waits for it).
BOOST_AUTO_TEST_CASE(a_ctrl_c_ends_the_pool_in_bounded_time)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            const auto report = weft::testing::in_a_forked_child<interrupt_report>(
                [method](interrupt_report& r) { run_interrupted(r, method); },
                {.own_process_group = true, .limit = patience});
            BOOST_TEST(report.finished == 1);
            BOOST_TEST(report.workers_alive_after_sigint == 1);
            BOOST_TEST(report.terminated == 1);
            BOOST_TEST(report.shutdown_ms >= 0);
            BOOST_TEST(report.shutdown_ms < 5000); // the task had 20 s to go
        }
    }
}

BOOST_AUTO_TEST_CASE(shutdown_without_wait_lets_running_calls_finish)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            auto slow = pool.submit(sleep_then, 50, 8);
            pool.shutdown(false);
            BOOST_CHECK_THROW((void)pool.submit(square, 1), weft::invalid_state_error);
            BOOST_TEST(slow.result(patience) == 8);
        }
    }
}

BOOST_AUTO_TEST_CASE(destructor_waits_for_submitted_calls)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            future<int> f;
            {
                process_pool_executor pool({.max_workers = 1, .start_method = method});
                f = pool.submit(sleep_then, 30, 5);
            }
            BOOST_TEST(f.done());
            BOOST_TEST(f.result(patience) == 5);
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
