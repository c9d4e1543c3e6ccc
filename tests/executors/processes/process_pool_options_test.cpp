// process_pool_executor's options: initializer (and a failing one), max_retries, restart_limit,
// max_memory_per_child and the crash-loop guard, under the three start methods.
#define BOOST_TEST_MODULE process_pool_options
#define BOOST_TEST_NO_MAIN
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "pool_test_support.hpp"
#include "support/run_count.hpp"

using namespace std::chrono_literals;
using weft::future;
using weft::process_pool_executor;
using weft::start_method;
using weft::worker_initializer;
using weft::test::all_methods;
using weft::test::fresh_temp_path;
using weft::test::patience;
using weft::test::zombie_children;
using weft::testing::count_run;
using weft::testing::runs;

namespace
{

// Set by the initializer, in each worker.
int g_configured = 0;

void configure(int value, std::string greeting)
{
    g_configured = value + static_cast<int>(greeting.size());
}

int configured()
{
    return g_configured;
}

void refuse_to_start(std::string why)
{
    throw std::runtime_error(why);
}

void exit_at_start(int code)
{
    std::_Exit(code);
}

// Dies by SIGKILL the first `deaths` times it runs, then answers 42.
int die_first(std::string path, int deaths)
{
    count_run(path);
    if (runs(path) <= deaths)
    {
        ::raise(SIGKILL);
    }
    return 42;
}

int throw_counted(std::string path)
{
    count_run(path);
    throw std::logic_error("thrown, not retried");
}

void die()
{
    ::raise(SIGKILL);
}

pid_t my_pid()
{
    return ::getpid();
}

// Grows this worker by `mebibytes` of touched memory that stays.
pid_t grow(int mebibytes)
{
    static std::vector<std::vector<char>> kept;
    kept.emplace_back(static_cast<std::size_t>(mebibytes) << 20, 'x');
    return ::getpid();
}

} // namespace

BOOST_AUTO_TEST_CASE(the_initializer_runs_in_every_worker_before_its_tasks)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool(
                {.max_workers = 2,
                 .start_method = method,
                 .initializer = worker_initializer(configure, 40, std::string("hi")),
                 .max_tasks_per_child = 3});
            std::vector<future<int>> seen;
            for (int i = 0; i < 12; ++i)
            {
                seen.push_back(pool.submit(configured));
            }
            // Replacement workers (max_tasks_per_child) run it too.
            for (auto& f : seen)
            {
                BOOST_TEST(f.result(patience) == 42);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_throwing_initializer_breaks_the_pool_with_a_clear_error)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool(
                {.max_workers = 2,
                 .start_method = method,
                 .initializer = worker_initializer(refuse_to_start, std::string("no database"))});
            // Each submission fails: at submit() once the pool knows, else through its future.
            for (int i = 0; i < 5; ++i)
            {
                BOOST_CHECK_EXCEPTION(
                    pool.submit(configured).result(patience), weft::broken_executor_error,
                    [](const weft::broken_executor_error& e)
                    {
                        const std::string what = e.what();
                        return what.find("initializer") != std::string::npos &&
                               what.find("std::runtime_error: no database") != std::string::npos;
                    });
            }
            BOOST_CHECK_THROW(pool.submit(configured), weft::broken_executor_error);
            pool.shutdown(true); // returns: no worker is restarted in a loop
            BOOST_TEST(pool.worker_pids().empty());
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(workers_that_keep_dying_at_start_break_the_pool)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1,
                                        .start_method = method,
                                        .initializer = worker_initializer(exit_at_start, 7)});
            auto f = pool.submit(configured);
            BOOST_CHECK_EXCEPTION(f.result(patience), weft::broken_executor_error,
                                  [](const weft::broken_executor_error& e)
                                  {
                                      const std::string what = e.what();
                                      return what.find("keep dying") != std::string::npos &&
                                             what.find("exit code 7") != std::string::npos;
                                  });
            pool.shutdown(true);
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(max_retries_reruns_a_task_whose_worker_died)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            const std::string path = fresh_temp_path("retries");
            process_pool_executor pool(
                {.max_workers = 1, .start_method = method, .max_retries = 2});
            BOOST_TEST(pool.submit(die_first, path, 2).result(patience) == 42);
            BOOST_TEST(runs(path) == 3);
            // A third death is one too many.
            std::filesystem::remove(path);
            BOOST_CHECK_THROW(pool.submit(die_first, path, 3).result(patience),
                              weft::worker_died_error);
            BOOST_TEST(runs(path) == 3);
            std::filesystem::remove(path);
        }
    }
}

BOOST_AUTO_TEST_CASE(max_retries_never_reruns_a_task_that_threw)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            const std::string path = fresh_temp_path("thrown");
            process_pool_executor pool(
                {.max_workers = 1, .start_method = method, .max_retries = 3});
            BOOST_CHECK_THROW(pool.submit(throw_counted, path).result(patience), std::logic_error);
            BOOST_TEST(runs(path) == 1);
            std::filesystem::remove(path);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_restart_limit_breaks_a_pool_whose_workers_keep_dying)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1,
                                        .start_method = method,
                                        .restart_limit = {.deaths = 2, .within = 60s}});
            for (int i = 0; i < 2; ++i)
            {
                BOOST_CHECK_THROW(pool.submit(die).result(patience), weft::worker_died_error);
            }
            BOOST_TEST(pool.submit(my_pid).result(patience) > 0); // two deaths are allowed
            BOOST_CHECK_THROW(pool.submit(die).result(patience), weft::worker_died_error);
            BOOST_CHECK_EXCEPTION(
                pool.submit(my_pid).result(patience), weft::broken_executor_error,
                [](const weft::broken_executor_error& e)
                { return std::string(e.what()).find("restart limit") != std::string::npos; });
            pool.shutdown(true);
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(max_memory_per_child_replaces_a_worker_that_grew)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1,
                                        .start_method = method,
                                        .max_memory_per_child = std::size_t{256} << 20});
            const pid_t first = pool.submit(grow, 1).result(patience);
            BOOST_TEST(pool.submit(grow, 1).result(patience) == first); // still small
            const pid_t grown = pool.submit(grow, 300).result(patience);
            BOOST_TEST(grown == first);
            const pid_t next = pool.submit(my_pid).result(patience);
            BOOST_TEST(next != first); // retired after the task that grew it
        }
    }
}

BOOST_AUTO_TEST_CASE(invalid_options_are_rejected)
{
    BOOST_CHECK_THROW(process_pool_executor({.max_retries = -1}), std::invalid_argument);
    BOOST_CHECK_THROW(process_pool_executor({.restart_limit = {.deaths = -1}}),
                      std::invalid_argument);
    BOOST_CHECK_THROW(process_pool_executor({.restart_limit = {.deaths = 1, .within = 0s}}),
                      std::invalid_argument);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
