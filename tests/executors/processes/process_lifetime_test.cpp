#define BOOST_TEST_MODULE process_lifetime
#define BOOST_TEST_NO_MAIN
// How long a weft::process lives: destroying one joins it (or terminates a daemon), so does
// the program's exit for one never destroyed, a daemon has no children, every child dies with
// its parent, and neither the thread that started a child nor the parent's fork server and
// launcher thread decide a forked child's fate.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <string>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/eventually.hpp"
#include "support/process_tests.hpp"
#include "support/scratch_dir.hpp"

using weft::testing::eventually;
using weft::testing::pid_exists;
using weft::testing::pid_running;

namespace
{

void sleep_then_write(int ms, std::string path)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    std::ofstream(path) << "done";
}

void try_to_start_a_child(std::string path)
{
    try
    {
        process child(sleep_ms, 0);
        child.start();
        child.join();
        std::ofstream(path) << "started";
    }
    catch (const weft::invalid_state_error& e)
    {
        std::ofstream(path) << "refused: " << e.what();
    }
}

// The middle of a three-generation family: starts a grandchild that sleeps for a minute,
// writes its pid, and then waits to be killed.
void start_sleeping_grandchild(std::string path, start_method method)
{
    process grandchild({.start_method = method}, sleep_ms, 60'000);
    grandchild.start();
    std::ofstream(path) << *grandchild.pid();
    std::this_thread::sleep_for(60s);
}

// Blocks SIGTERM, says it is ready, and writes "terminated" once SIGTERM comes (SIGKILL, the
// parent-death signal, leaves nothing).
void wait_for_sigterm(std::string ready_path, std::string path)
{
    sigset_t term;
    ::sigemptyset(&term);
    ::sigaddset(&term, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &term, nullptr);
    std::ofstream(ready_path) << "ready";
    int got = 0;
    ::sigwait(&term, &got);
    std::ofstream(path) << "terminated";
}

// The middle of a family that never destroys its children's process objects: a non-daemon one
// writes after 300 ms, a daemon one waits for SIGTERM. It leaves by std::exit, or by returning
// from its target, with both still running.
void leave_children_running(std::string dir, start_method method, bool by_exit)
{
    static process* const joined =
        new process({.start_method = method}, sleep_then_write, 300, dir + "/joined");
    static process* const daemon = new process({.daemon = true, .start_method = method},
                                               wait_for_sigterm, dir + "/ready", dir + "/daemon");
    joined->start();
    daemon->start();
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (!std::filesystem::exists(dir + "/ready") && std::chrono::steady_clock::now() < until)
    {
        std::this_thread::sleep_for(1ms);
    }
    if (by_exit)
    {
        std::exit(0);
    }
}

int twice(int x)
{
    return 2 * x;
}

// The middle of a family whose grandchildren are a pool's workers (and, under forkserver, its
// fork server): writes once the pool answered, then waits to be killed.
void start_a_pool(std::string path, start_method method)
{
    weft::process_pool_executor pool({.max_workers = 2, .start_method = method});
    std::ofstream(path) << pool.submit(twice, 21).result();
    std::this_thread::sleep_for(60s);
}

// Run in a forked child: starts grandchildren by forkserver from the main thread and by spawn
// from another thread, and writes their exit codes.
void start_grandchildren(std::string path)
{
    process by_server({.start_method = start_method::forkserver}, exit_with, 4);
    by_server.start();
    by_server.join();
    process by_spawn({.start_method = start_method::spawn}, exit_with, 5);
    std::thread([&by_spawn] { by_spawn.start(); }).join();
    by_spawn.join();
    std::ofstream(path) << by_server.exitcode().value_or(-1) << ','
                        << by_spawn.exitcode().value_or(-1);
}

} // namespace

BOOST_AUTO_TEST_CASE(destroying_a_non_daemon_process_joins_it)
{
    scratch_file out;
    {
        process p(sleep_then_write, 200, out.path());
        p.start();
    }
    BOOST_TEST(out.read() == "done");
}

BOOST_AUTO_TEST_CASE(destroying_a_daemon_process_terminates_it)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pid_t pid = 0;
            const auto begin = std::chrono::steady_clock::now();
            {
                process p({.daemon = true, .start_method = method}, sleep_ms, 60'000);
                p.start();
                pid = *p.pid();
            }
            BOOST_TEST((std::chrono::steady_clock::now() - begin < 10s));
            BOOST_TEST(!pid_exists(pid));
        }
    }
}

// Python's exit handler: a program that leaves with children whose objects were never destroyed
// joins the non-daemon ones and terminates the daemons (SIGTERM) instead of leaving them all to
// the parent-death signal.
BOOST_AUTO_TEST_CASE(leaving_joins_the_children_left_running_and_terminates_the_daemons)
{
    for (const start_method method : all_methods)
    {
        for (const bool by_exit : {true, false})
        {
            BOOST_TEST_CONTEXT(weft::to_string(method) << (by_exit ? ", std::exit" : ", return"))
            {
                weft::testing::scratch_dir dir;
                process middle({.start_method = method}, leave_children_running, dir.path(), method,
                               by_exit);
                middle.start();
                BOOST_TEST(middle.join(60s));
                BOOST_TEST(exit_of(middle) == 0);
                std::ifstream joined(dir.path() + "/joined");
                std::ifstream daemon(dir.path() + "/daemon");
                std::string joined_text;
                std::string daemon_text;
                joined >> joined_text;
                daemon >> daemon_text;
                BOOST_TEST(joined_text == "done");
                BOOST_TEST(daemon_text == "terminated");
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_daemon_process_may_not_have_children)
{
    for (const start_method method : all_methods)
    {
        scratch_file out;
        process p({.daemon = true, .start_method = method}, try_to_start_a_child, out.path());
        p.start();
        p.join();
        BOOST_TEST(out.read().rfind("refused: ", 0) == 0, out.read());
    }
}

BOOST_AUTO_TEST_CASE(every_child_dies_with_its_parent)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            scratch_file out;
            process middle({.start_method = method}, start_sleeping_grandchild, out.path(), method);
            middle.start();
            BOOST_REQUIRE(eventually([&] { return !out.read().empty(); }));
            const pid_t grandchild = std::stoi(out.read());
            BOOST_TEST(pid_running(grandchild));
            middle.kill();
            middle.join();
            BOOST_TEST(eventually([&] { return !pid_running(grandchild); }));
        }
    }
}

// No pool worker, nor the fork server, outlives a parent killed with SIGKILL (its destructors
// never run): Python's workers do (SEMANTICS, zombies and orphans).
BOOST_AUTO_TEST_CASE(a_pools_workers_and_fork_server_die_with_their_parent)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            scratch_file out;
            process middle({.start_method = start_method::spawn}, start_a_pool, out.path(), method);
            middle.start();
            BOOST_REQUIRE(eventually([&] { return out.read() == "42"; }));
            const std::vector<pid_t> grandchildren = weft::testing::children_of(*middle.pid());
            // Two workers, and the fork server under forkserver.
            BOOST_TEST(grandchildren.size() == (method == start_method::forkserver ? 3U : 2U));
            middle.kill();
            middle.join();
            for (const pid_t grandchild : grandchildren)
            {
                BOOST_TEST_CONTEXT("grandchild " << grandchild)
                {
                    BOOST_TEST(eventually([&] { return !pid_running(grandchild); }));
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_child_started_from_a_short_lived_thread_outlives_the_thread)
{
    for (const start_method method : all_methods)
    {
        process p({.start_method = method}, sleep_ms, 1000);
        std::thread([&p] { p.start(); }).join();
        std::this_thread::sleep_for(100ms);
        BOOST_TEST(p.is_alive(), weft::to_string(method));
        p.join();
        BOOST_TEST(exit_of(p) == 0, weft::to_string(method));
    }
}

// The parent's fork server and launcher thread are in use when it forks: the child must start
// its own instead of talking to the parent's (whose children would be the parent's).
BOOST_AUTO_TEST_CASE(a_forked_child_starts_processes_of_its_own)
{
    process warm({.start_method = start_method::forkserver}, sleep_ms, 0);
    std::thread([&warm] { warm.start(); }).join(); // the parent's launcher thread and server
    warm.join();
    scratch_file out;
    process middle({.start_method = start_method::fork}, start_grandchildren, out.path());
    middle.start();
    BOOST_TEST(middle.join(60s));
    BOOST_TEST(exit_of(middle) == 0);
    BOOST_TEST(out.read() == "4,5");
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
