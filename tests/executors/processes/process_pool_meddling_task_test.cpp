// process_pool_executor when a task meddles with its own worker process: it closes the worker's
// descriptors (a daemon's close-everything loop), or it calls fork() and returns in both
// processes. No future is lost, shutdown returns, and no process is left running. Each under
// the three start methods.
#define BOOST_TEST_MODULE process_pool_meddling_task
#define BOOST_TEST_NO_MAIN
#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/eventually.hpp"
#include "support/process_pool_tests.hpp"

using weft::test::zombie_children;
using weft::testing::eventually;

namespace
{

// Closes every socket and eventfd this process has: what a loop closing descriptors 3 to 1023
// does to a worker's links to its pool, without closing the files a sanitizer's runtime keeps.
int close_sockets_and_eventfds(int)
{
    std::vector<int> doomed;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    {
        std::error_code failed;
        const std::string target = std::filesystem::read_symlink(entry.path(), failed).string();
        if (target.starts_with("socket:") || target == "anon_inode:[eventfd]")
        {
            doomed.push_back(std::stoi(entry.path().filename().string()));
        }
    }
    for (const int fd : doomed)
    {
        ::close(fd);
    }
    return static_cast<int>(doomed.size());
}

long read_shared(weft::shared_value<long> value)
{
    return value.get();
}

// Forks, and returns in both processes: the child's pid in the parent. The child's own return
// (0) must never reach the pool.
int fork_and_return()
{
    return static_cast<int>(::fork());
}

// The state letter of process `pid` in /proc (R, S, Z...), or '-' once it is gone.
char process_state(pid_t pid)
{
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
    {
        return '-';
    }
    const std::size_t after_name = line.rfind(')');
    return after_name != std::string::npos && after_name + 2 < line.size() ? line[after_name + 2]
                                                                           : '?';
}

} // namespace

// A worker whose socket and eventfd a task closed lives on, unable to receive descriptors or to
// wake the pool's collector. A call carrying shared memory is sent to a replacement (the pool
// kills the deaf worker when it finds its socket closed, once the calls written to it are
// back), and a result only the collector would see arrives (the worker exits when it cannot
// ring the pool, and the pool collects what it left in the ring). Shutdown returns.
BOOST_AUTO_TEST_CASE(a_task_that_closes_the_workers_descriptors_loses_no_future)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            const pid_t deafened = pool.worker_pids().at(0);
            BOOST_TEST(pool.submit(close_sockets_and_eventfds, 0).result(patience) >= 2);
            // A call written to the deaf worker before the pool finds it deaf still completes
            // there: the worker is killed only once it holds no written call.
            auto running = pool.submit(weft::testing::sleep_then, 300, 7);
            std::this_thread::sleep_for(50ms);
            const weft::shared_value<long> shared(42);
            BOOST_TEST(pool.submit(read_shared, shared).result(patience) == 42);
            BOOST_TEST(running.result(patience) == 7);
            BOOST_TEST(eventually(
                [&]
                {
                    const std::vector<pid_t> now = pool.worker_pids();
                    return now.size() == 1U && now[0] != deafened;
                }));

            // Again, and this time the next result is awaited only through the collector
            // thread (as_completed does not collect results itself).
            const pid_t second = pool.worker_pids().at(0);
            BOOST_TEST(pool.submit(close_sockets_and_eventfds, 0).result(patience) >= 2);
            std::vector<future<int>> watched{pool.submit(square, 9)};
            int seen = 0;
            for (auto& done : weft::as_completed(watched, patience))
            {
                seen = done.result();
            }
            BOOST_TEST(seen == 81);
            BOOST_TEST(eventually(
                [&]
                {
                    const std::vector<pid_t> now = pool.worker_pids();
                    return now.size() == 1U && now[0] != second;
                }));
            BOOST_TEST(pool.submit(square, 5).result(patience) == 25);
            pool.shutdown(true);
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

// The child of a task's fork() that returns from the task exits at once: it does not go on as a
// second reader of the worker's rings, so every later call completes with its own value, and it
// does not outlive its pool.
BOOST_AUTO_TEST_CASE(a_task_that_forks_and_returns_in_both_processes_loses_no_future)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            const pid_t child = pool.submit(fork_and_return).result(patience);
            BOOST_REQUIRE(child > 0);
            std::vector<future<int>> later;
            for (int i = 0; i < 200; ++i)
            {
                later.push_back(pool.submit(square, i));
            }
            for (int i = 0; i < 200; ++i)
            {
                BOOST_TEST(later[i].result(patience) == i * i);
            }
            // It exited: a zombie of the worker until the worker goes, then gone.
            BOOST_TEST(eventually(
                [&]
                {
                    const char state = process_state(child);
                    return state == 'Z' || state == '-';
                }));
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
