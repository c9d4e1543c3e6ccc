// A Ctrl-C that reaches a pool worker, or the fork server, while it is still starting must not
// end it: SIGINT is the parent's to handle. Spawned workers and the server ignore it from their
// first instruction (an ignored signal stays ignored across execve), where they used to die of it
// until main_guard handed them to the pool.
#define BOOST_TEST_MODULE process_pool_interrupt
#define BOOST_TEST_NO_MAIN
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <set>
#include <signal.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

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

} // namespace

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
