// A Ctrl-C that reaches a pool worker, or the fork server, while it is still starting must not
// end it: SIGINT is the parent's to handle. Spawned workers and the server ignore it from their
// first instruction (an ignored signal stays ignored across execve), where they used to die of it
// until main_guard handed them to the pool.
#define BOOST_TEST_MODULE process_pool_interrupt
#define BOOST_TEST_NO_MAIN
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <signal.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../../support/eventually.hpp"
#include "../../support/process_checks.hpp"
#include "../../support/process_targets.hpp"

using namespace std::chrono_literals;
using weft::start_method;

namespace
{

constexpr const char* slow_start_env = "WEFT_TEST_SLOW_START_MS";

// A child started while the variable is set spends that long in static initialisation, before
// main: the window in which only an ignored SIGINT keeps it alive.
const int g_slow_start = []
{
    if (const char* ms = std::getenv(slow_start_env))
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(ms)));
    }
    return 0;
}();

void count_interrupt(int) {}

int pid_of_worker(int)
{
    return static_cast<int>(::getpid());
}

// The signals a process blocks, from /proc/PID/status (bit N-1 for signal N).
std::uint64_t blocked_signals(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
    {
        if (line.rfind("SigBlk:", 0) == 0)
        {
            return std::stoull(line.substr(7), nullptr, 16);
        }
    }
    return ~std::uint64_t{0};
}

bool blocks(std::uint64_t mask, int signal)
{
    return (mask >> (signal - 1) & 1U) != 0;
}

} // namespace

// The pitfall of a program that blocks a signal to read it from a signalfd or sigtimedwait
// after a pool started: the kernel gives a process-directed signal to any thread that does
// not block it, so a pool thread created before would take it and, with the default action,
// end the program. weft's threads (the pool's collector, the launcher, the reaper) block every
// signal.
BOOST_AUTO_TEST_CASE(a_signal_blocked_after_a_pool_starts_never_lands_on_a_weft_thread)
{
    for (const start_method method : weft::testing::all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            weft::process_pool_executor pool({.max_workers = 2, .start_method = method});
            BOOST_TEST(pool.submit(pid_of_worker, 0).result(30s) > 0);
            sigset_t usr1;
            sigset_t before;
            ::sigemptyset(&usr1);
            ::sigaddset(&usr1, SIGUSR1);
            ::pthread_sigmask(SIG_BLOCK, &usr1, &before);
            ::kill(::getpid(), SIGUSR1); // its default action ends the test program
            const timespec patience{10, 0};
            BOOST_TEST(::sigtimedwait(&usr1, nullptr, &patience) == SIGUSR1);
            ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
            // weft's threads (named weft-...) keep the signals of a fault, so that a crash in
            // one still reaches a crash handler (a sanitizer's report). Eventually: a thread
            // glibc is still starting blocks everything for a moment, and has no name yet.
            BOOST_TEST(weft::testing::eventually(
                []
                {
                    int weft_threads = 0;
                    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task"))
                    {
                        std::string name;
                        std::getline(std::ifstream(task.path() / "comm"), name);
                        const std::uint64_t mask =
                            blocked_signals(static_cast<pid_t>(std::stoi(task.path().filename())));
                        if (name.rfind("weft-", 0) != 0)
                        {
                            continue;
                        }
                        if (!blocks(mask, SIGTERM) || !blocks(mask, SIGINT) ||
                            blocks(mask, SIGSEGV) || blocks(mask, SIGBUS))
                        {
                            return false;
                        }
                        ++weft_threads;
                    }
                    return weft_threads >= 1; // the collector at least
                }));
        }
    }
}

// A worker starts with the signal mask of the thread that made the pool (as a child forked
// there would), a replacement too, and never with the collector's or the launcher's, which
// block asynchronous signals. Forkserver workers are the server's children and have its mask.
BOOST_AUTO_TEST_CASE(workers_start_with_the_signal_mask_of_the_pools_maker)
{
    for (const start_method method : weft::testing::all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            sigset_t usr2;
            sigset_t before;
            ::sigemptyset(&usr2);
            ::sigaddset(&usr2, SIGUSR2);
            ::pthread_sigmask(SIG_BLOCK, &usr2, &before);
            weft::process_pool_executor pool({.max_workers = 2, .start_method = method});
            ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
            BOOST_TEST(pool.submit(pid_of_worker, 0).result(30s) > 0);
            const auto check = [method](pid_t worker)
            {
                const std::uint64_t mask = blocked_signals(worker);
                std::string name;
                std::getline(std::ifstream("/proc/" + std::to_string(worker) + "/comm"), name);
                BOOST_TEST_CONTEXT("worker " << worker << ", SigBlk " << std::hex << mask)
                {
                    // Nor the name of the weft thread that forked it.
                    BOOST_TEST(name.rfind("weft-", 0) != 0, name);
                    BOOST_TEST(!blocks(mask, SIGTERM));
                    BOOST_TEST(!blocks(mask, SIGINT));
                    if (method != start_method::forkserver)
                    {
                        BOOST_TEST(blocks(mask, SIGUSR2));
                    }
                }
            };
            const std::vector<pid_t> first = pool.worker_pids();
            BOOST_REQUIRE(first.size() == 2U);
            for (const pid_t worker : first)
            {
                check(worker);
            }
            BOOST_REQUIRE(::kill(first[0], SIGKILL) == 0);
            std::vector<pid_t> now;
            BOOST_REQUIRE(weft::testing::eventually(
                [&]
                {
                    now = pool.worker_pids();
                    return now.size() == 2U &&
                           std::find(now.begin(), now.end(), first[0]) == now.end();
                }));
            for (const pid_t worker : now)
            {
                check(worker);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(workers_and_the_fork_server_survive_a_sigint_while_starting)
{
    // The test process handles SIGINT with a function: a child gets the default action (death)
    // unless weft makes it ignore the signal.
    struct sigaction handler
    {
    };
    handler.sa_handler = count_interrupt;
    ::sigaction(SIGINT, &handler, nullptr);
    for (const start_method method : weft::testing::all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            ::setenv(slow_start_env, "600", 1);
            weft::process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::set<pid_t> interrupted;
            const auto until = std::chrono::steady_clock::now() + 400ms;
            while (std::chrono::steady_clock::now() < until)
            {
                for (const pid_t child : weft::testing::children_of(::getpid()))
                {
                    ::kill(child, SIGINT);
                    interrupted.insert(child);
                }
                std::this_thread::sleep_for(5ms);
            }
            ::unsetenv(slow_start_env);
            BOOST_TEST_INFO("children interrupted: " << interrupted.size());
            BOOST_TEST(!interrupted.empty());
            std::set<int> answered;
            for (int i = 0; i < 40; ++i)
            {
                answered.insert(pool.submit(pid_of_worker, i).result(30s));
            }
            for (const pid_t child : interrupted)
            {
                BOOST_TEST_CONTEXT("child " << child)
                {
                    BOOST_TEST(weft::testing::pid_running(child));
                }
            }
            for (const int pid : answered)
            {
                BOOST_TEST(interrupted.count(static_cast<pid_t>(pid)) == 1U);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_process_keeps_the_default_action_of_sigint)
{
    // Not a pool worker: as in Python, a spawned child, or one of the fork server (which ignores
    // SIGINT itself), dies of a SIGINT.
    struct sigaction handler
    {
    };
    handler.sa_handler = count_interrupt;
    ::sigaction(SIGINT, &handler, nullptr);
    for (const start_method method : {start_method::spawn, start_method::forkserver})
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            weft::process child({.start_method = method}, weft::testing::sleep_ms, 20'000);
            child.start();
            std::this_thread::sleep_for(300ms); // past main_guard, in the target
            ::kill(*child.pid(), SIGINT);
            BOOST_TEST(child.join(30s));
            BOOST_TEST(weft::testing::exit_of(child) == -SIGINT);
        }
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
