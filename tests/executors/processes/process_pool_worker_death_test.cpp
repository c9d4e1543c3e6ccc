// process_pool_executor when workers go: one killed, crashing or exiting mid-task fails exactly
// that task's future and is replaced, an initializer that throws fails every pending future
// without a restart loop, and max_tasks_per_child retires workers on purpose; no zombie is left
// either way. Each under the three start methods.
#define BOOST_TEST_MODULE process_pool_worker_death
#define BOOST_TEST_NO_MAIN
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ranges>
#include <set>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/eventually.hpp"
#include "support/process_pool_tests.hpp"
#include "support/run_count.hpp"

using weft::test::fresh_temp_path;
using weft::test::report_pid_and_hang;
using weft::test::wait_for_pid_file;
using weft::test::zombie_children;
using weft::testing::count_run;
using weft::testing::eventually;
using weft::testing::exit_with;
using weft::testing::my_pid;
using weft::testing::runs;

namespace
{

// A crash: a store through a null pointer, with the default action for SIGSEGV (a sanitizer's
// handler would report it and abort instead), unchecked by the sanitizers (UBSan would abort
// first) and opaque to the compiler (which drops, or traps, a store it can see is through null).
__attribute__((no_sanitize("address", "undefined", "thread"))) int segfault(int)
{
    std::signal(SIGSEGV, SIG_DFL);
    volatile int* volatile nowhere = nullptr;
    *nowhere = 1;
    return -1;
}

// Leaves the worker the ordinary way, atexit handlers and static destructors included.
int exit_seven_mid_task(int)
{
    std::exit(7);
}

// Counts its run at `path`, waits until `path`.go exists (bounded: 10 s), then throws.
void count_wait_and_refuse(std::string path)
{
    count_run(path);
    weft::testing::eventually([&] { return std::filesystem::exists(path + ".go"); });
    throw std::runtime_error("no database");
}

// x, except that item 13 takes its worker down (exit code 5).
int exit_at_thirteen(int x)
{
    if (x == 13)
    {
        std::_Exit(5);
    }
    return x;
}

} // namespace

// The error of a map's chunk names the inputs that were lost, by position.
BOOST_AUTO_TEST_CASE(a_map_chunk_whose_worker_dies_names_its_items)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            for (const auto& [chunksize, items] :
                 {std::pair<std::size_t, std::string>{5, "(items 10 to 14 of its map)"},
                  std::pair<std::size_t, std::string>{1, "(item 13 of its map)"}})
            {
                BOOST_TEST_CONTEXT("chunksize " << chunksize)
                {
                    std::string what;
                    try
                    {
                        for (int x : pool.map(exit_at_thirteen, std::views::iota(0, 20),
                                              {.chunksize = chunksize}))
                        {
                            (void)x;
                        }
                    }
                    catch (const weft::worker_died_error& e)
                    {
                        what = e.what();
                    }
                    BOOST_TEST(what.find("exited with code 5") != std::string::npos, what);
                    BOOST_TEST(what.find(items) != std::string::npos, what);
                }
            }
            // A plain submit names no items.
            try
            {
                (void)pool.submit(exit_at_thirteen, 13).result(patience);
                BOOST_TEST(false);
            }
            catch (const weft::worker_died_error& e)
            {
                BOOST_TEST(std::string(e.what()).find("of its map") == std::string::npos);
            }
        }
    }
}

// A hundred rounds under each start method.
BOOST_AUTO_TEST_CASE(kill_9_mid_task_fails_only_that_future_a_hundred_times)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::set<pid_t> killed;
            const int rounds = 100;
            for (int round = 0; round < rounds; ++round)
            {
                const std::string path =
                    (std::filesystem::temp_directory_path() /
                     ("weft_pool_test_" + std::to_string(::getpid()) + "_" + std::to_string(round)))
                        .string();
                std::filesystem::remove(path);
                std::vector<future<int>> before;
                for (int i = 0; i < 10; ++i)
                {
                    before.push_back(pool.submit(square, i));
                }
                auto doomed = pool.submit(report_pid_and_hang, path);
                std::vector<future<int>> after;
                for (int i = 0; i < 10; ++i)
                {
                    after.push_back(pool.submit(square, i));
                }
                const pid_t victim = wait_for_pid_file(path);
                BOOST_REQUIRE(victim > 0);
                BOOST_REQUIRE(::kill(victim, SIGKILL) == 0);
                killed.insert(victim);
                BOOST_CHECK_EXCEPTION(doomed.result(patience), weft::worker_died_error,
                                      [victim](const weft::worker_died_error& e)
                                      {
                                          const std::string what = e.what();
                                          return e.pid() == victim && e.exitcode() == -SIGKILL &&
                                                 what.find(std::to_string(victim)) !=
                                                     std::string::npos &&
                                                 what.find("SIGKILL") != std::string::npos;
                                      });
                for (int i = 0; i < 10; ++i)
                {
                    BOOST_TEST(before[i].result(patience) == i * i);
                    BOOST_TEST(after[i].result(patience) == i * i);
                }
                std::filesystem::remove(path);
            }
            BOOST_TEST(killed.size() == static_cast<std::size_t>(rounds));
            // Replacements keep the pool at its size, and none of the killed is left a zombie.
            BOOST_TEST(pool.worker_pids().size() == 2U);
            BOOST_TEST(zombie_children() == 0);
            pool.shutdown(true);
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

// A worker killed while shutdown(wait = true) waits for its call: shutdown returns, that call
// fails, the queued ones behind it still run (on a replacement), and nothing is left behind.
BOOST_AUTO_TEST_CASE(a_worker_killed_while_shutdown_waits_fails_its_call_and_shutdown_returns)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            const std::string path = fresh_temp_path("shutdown_kill");
            auto doomed = pool.submit(report_pid_and_hang, path);
            std::vector<future<int>> queued;
            for (int i = 0; i < 5; ++i)
            {
                queued.push_back(pool.submit(square, i));
            }
            const pid_t victim = wait_for_pid_file(path);
            BOOST_REQUIRE(victim > 0);
            std::thread shutting_down([&pool] { pool.shutdown(true); });
            std::this_thread::sleep_for(100ms); // shutdown is waiting for the hanging call
            BOOST_REQUIRE(::kill(victim, SIGKILL) == 0);
            shutting_down.join();
            BOOST_CHECK_THROW(doomed.result(patience), weft::worker_died_error);
            for (int i = 0; i < 5; ++i)
            {
                BOOST_TEST(queued[static_cast<std::size_t>(i)].result(patience) == i * i);
            }
            BOOST_TEST(pool.worker_pids().empty());
            BOOST_TEST(zombie_children() == 0);
            std::filesystem::remove(path);
        }
    }
}

// A crash (SIGSEGV) inside a task fails that task's future alone, with an error naming the
// signal, the worker's pid and the task; a replacement starts and every other future completes.
BOOST_AUTO_TEST_CASE(a_worker_that_segfaults_mid_task_fails_only_that_future)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            const std::vector<pid_t> started = pool.worker_pids();
            BOOST_REQUIRE(started.size() == 2U);
            std::vector<future<int>> before;
            for (int i = 0; i < 10; ++i)
            {
                before.push_back(pool.submit(square, i));
            }
            auto crashed = pool.submit(segfault, 0);
            std::vector<future<int>> after;
            for (int i = 0; i < 10; ++i)
            {
                after.push_back(pool.submit(square, i));
            }
            pid_t dead = 0;
            BOOST_CHECK_EXCEPTION(
                crashed.result(patience), weft::worker_died_error,
                [&](const weft::worker_died_error& e)
                {
                    dead = e.pid();
                    const std::string what = e.what();
                    BOOST_TEST_MESSAGE(what);
                    return e.exitcode() == -SIGSEGV && what.find("SIGSEGV") != std::string::npos &&
                           what.find("worker " + std::to_string(e.pid())) != std::string::npos &&
                           e.task() != 0 &&
                           what.find("task " + std::to_string(e.task()) + ", a call of ") !=
                               std::string::npos &&
                           what.find("segfault(int)") != std::string::npos;
                });
            BOOST_TEST((dead == started[0] || dead == started[1]), "the dead was not a worker");
            for (int i = 0; i < 10; ++i)
            {
                BOOST_TEST(before[i].result(patience) == i * i);
                BOOST_TEST(after[i].result(patience) == i * i);
            }
            // The replacement: two workers again, the dead one not among them.
            BOOST_TEST(eventually(
                [&]
                {
                    const std::vector<pid_t> now = pool.worker_pids();
                    return now.size() == 2U && std::find(now.begin(), now.end(), dead) == now.end();
                }));
            BOOST_TEST(pool.submit(square, 12).result(patience) == 144);
            pool.shutdown(true);
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

// std::exit() in a task (atexit handlers and static destructors run in the worker) fails that
// task's future with the exit code; the call behind it runs on a replacement.
BOOST_AUTO_TEST_CASE(a_worker_that_calls_std_exit_mid_task_fails_that_future_with_the_code)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            const pid_t first = pool.worker_pids().at(0);
            auto gone = pool.submit(exit_seven_mid_task, 0);
            auto next = pool.submit(my_pid);
            BOOST_CHECK_EXCEPTION(gone.result(patience), weft::worker_died_error,
                                  [first](const weft::worker_died_error& e)
                                  {
                                      const std::string what = e.what();
                                      return e.exitcode() == 7 && e.pid() == first &&
                                             what.find("exited with code 7") != std::string::npos;
                                  });
            const pid_t replacement = next.result(patience);
            BOOST_TEST(replacement > 0);
            BOOST_TEST(replacement != first);
            pool.shutdown(true);
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

// An initializer that throws while 50 calls wait: every one of their futures fails with the
// broken-pool error naming the initializer's exception, none hangs, and no worker is started
// again and again (each of the two workers runs the initializer at most once).
BOOST_AUTO_TEST_CASE(a_throwing_initializer_fails_every_pending_future_without_a_restart_loop)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            const std::string path = fresh_temp_path("initializer_runs");
            std::filesystem::remove(path + ".go");
            process_pool_executor pool(
                {.max_workers = 2,
                 .start_method = method,
                 .initializer = weft::worker_initializer(count_wait_and_refuse, path)});
            // No initializer has thrown yet (they wait for the .go file): each submit() queues.
            std::vector<future<int>> pending;
            for (int i = 0; i < 50; ++i)
            {
                pending.push_back(pool.submit(square, i));
            }
            {
                std::ofstream(path + ".go") << "go";
            }
            const auto started = std::chrono::steady_clock::now();
            for (auto& f : pending)
            {
                BOOST_CHECK_EXCEPTION(f.result(patience), weft::broken_executor_error,
                                      [](const weft::broken_executor_error& e)
                                      {
                                          const std::string what = e.what();
                                          return what.find("initializer") != std::string::npos &&
                                                 what.find("no database") != std::string::npos;
                                      });
            }
            BOOST_TEST((std::chrono::steady_clock::now() - started < 10s));
            BOOST_CHECK_THROW((void)pool.submit(square, 1), weft::broken_executor_error);
            pool.shutdown(true);
            BOOST_TEST(pool.worker_pids().empty());
            // Counted after shutdown: a worker started in a loop would have run it again.
            BOOST_TEST(runs(path) >= 1);
            BOOST_TEST(runs(path) <= 2);
            BOOST_TEST(zombie_children() == 0);
            std::filesystem::remove(path);
            std::filesystem::remove(path + ".go");
        }
    }
}

BOOST_AUTO_TEST_CASE(a_worker_that_exits_mid_task_fails_that_future_with_the_code)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            auto gone = pool.submit(exit_with, 3);
            auto next = pool.submit(square, 4);
            BOOST_CHECK_EXCEPTION(gone.result(patience), weft::worker_died_error,
                                  [](const weft::worker_died_error& e)
                                  {
                                      return e.exitcode() == 3 &&
                                             std::string(e.what()).find("exited with code 3") !=
                                                 std::string::npos;
                                  });
            BOOST_TEST(next.result(patience) == 16);
        }
    }
}

BOOST_AUTO_TEST_CASE(max_tasks_per_child_replaces_workers)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool(
                {.max_workers = 1, .start_method = method, .max_tasks_per_child = 2});
            std::vector<pid_t> pids;
            for (int i = 0; i < 6; ++i)
            {
                pids.push_back(pool.submit(my_pid).result(patience));
            }
            // Two tasks per worker: three different workers, in pairs.
            BOOST_TEST(pids[0] == pids[1]);
            BOOST_TEST(pids[2] == pids[3]);
            BOOST_TEST(pids[4] == pids[5]);
            BOOST_TEST(std::set<pid_t>(pids.begin(), pids.end()).size() == 3U);
            pool.shutdown(true);
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
