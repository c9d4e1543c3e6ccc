// process_pool_executor when workers go: one killed or exiting mid-task fails exactly that
// task's future and is replaced, and max_tasks_per_child retires workers on purpose; no zombie
// is left either way. Each under the three start methods.
#define BOOST_TEST_MODULE process_pool_worker_death
#define BOOST_TEST_NO_MAIN
#include <filesystem>
#include <set>
#include <signal.h>
#include <string>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/process_pool_tests.hpp"

using weft::test::report_pid_and_hang;
using weft::test::wait_for_pid_file;
using weft::test::zombie_children;
using weft::testing::exit_with;
using weft::testing::my_pid;

// A hundred rounds under the default start method (forkserver), twenty under the others.
BOOST_AUTO_TEST_CASE(kill_9_mid_task_fails_only_that_future_a_hundred_times)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::set<pid_t> killed;
            const int rounds = method == start_method::forkserver ? 100 : 20;
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
