#define BOOST_TEST_MODULE process
#define BOOST_TEST_NO_MAIN
// weft::process: a target and its arguments under the three start methods, exit codes, join,
// the calls refused in the wrong state, names, and the start method setting. Lifetimes
// (daemons, parent death): process_lifetime_test.cpp; the fork server's thread identity:
// process_forkserver_test.cpp; co_await of a child: process_async_join_test.cpp.
#include <chrono>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/labelled.hpp"
#include "support/process_tests.hpp"

using weft::testing::labelled;
using weft::testing::pid_exists;
using weft::testing::still_running;

namespace
{

struct point
{
    int x;
    double y;
};

int global_value = 777;

void write_arguments(std::string path, int n, std::string s, std::vector<int> v, point p,
                     labelled l)
{
    std::ostringstream out;
    out << weft::current_process_name() << '|' << n << '|' << s << '|' << v.size() << ':'
        << v.back() << '|' << p.x << ',' << p.y << '|' << l.label << ':' << l.values.size();
    std::ofstream(path) << out.str();
}

void write_global(std::string path)
{
    std::ofstream(path) << global_value;
}

void throw_runtime_error()
{
    throw std::runtime_error("boom in the child");
}

} // namespace

BOOST_AUTO_TEST_CASE(runs_the_target_with_its_arguments_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            scratch_file out;
            process p({.name = "worker", .start_method = method}, write_arguments, out.path(), 42,
                      std::string("hello"), std::vector<int>{1, 2, 3}, point{7, 2.5},
                      labelled{"l", {4, 5}});
            BOOST_TEST((p.start_method() == method));
            p.start();
            p.join();
            BOOST_TEST(exit_of(p) == 0);
            BOOST_TEST(out.read() == "worker|42|hello|3:3|7,2.5|l:2");
        }
    }
}

BOOST_AUTO_TEST_CASE(a_captureless_lambda_is_a_target)
{
    for (const start_method method : all_methods)
    {
        scratch_file out;
        process p(
            {.start_method = method}, [](std::string path, int n) { std::ofstream(path) << n * 2; },
            out.path(), 21);
        p.start();
        p.join();
        BOOST_TEST(out.read() == "42");
    }
}

BOOST_AUTO_TEST_CASE(exitcode_is_one_when_the_target_throws_and_the_status_when_it_exits)
{
    for (const start_method method : all_methods)
    {
        process thrower({.start_method = method}, throw_runtime_error);
        process exiter({.start_method = method}, exit_with, 3);
        thrower.start();
        exiter.start();
        thrower.join();
        exiter.join();
        BOOST_TEST(exit_of(thrower) == 1);
        BOOST_TEST(exit_of(exiter) == 3);
    }
}

BOOST_AUTO_TEST_CASE(exitcode_is_minus_the_signal_after_terminate_or_kill)
{
    for (const start_method method : all_methods)
    {
        process terminated({.start_method = method}, sleep_ms, 60'000);
        process killed({.start_method = method}, sleep_ms, 60'000);
        terminated.start();
        killed.start();
        BOOST_TEST(terminated.is_alive());
        BOOST_TEST(exit_of(terminated) == still_running);
        terminated.terminate();
        killed.kill();
        BOOST_TEST(terminated.join(10s));
        BOOST_TEST(killed.join(10s));
        BOOST_TEST(exit_of(terminated) == -SIGTERM);
        BOOST_TEST(exit_of(killed) == -SIGKILL);
        BOOST_TEST(!terminated.is_alive());
        terminated.terminate(); // no effect once it has exited
    }
}

BOOST_AUTO_TEST_CASE(join_with_a_timeout_returns_false_while_the_child_runs)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process p({.start_method = method}, sleep_ms, 1000);
            p.start();
            const auto begin = std::chrono::steady_clock::now();
            BOOST_TEST(!p.join(50ms));
            BOOST_TEST((std::chrono::steady_clock::now() - begin >= 50ms));
            BOOST_TEST(p.is_alive());
            BOOST_TEST(p.join(10s));
            BOOST_TEST(!p.is_alive());
            BOOST_TEST(exit_of(p) == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(calls_in_the_wrong_state_are_clear_errors)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process p({.start_method = method}, sleep_ms, 0);
            BOOST_TEST(!p.pid().has_value());
            BOOST_TEST(!p.is_alive());
            BOOST_CHECK_THROW(p.join(), weft::invalid_state_error);
            BOOST_CHECK_THROW(p.terminate(), weft::invalid_state_error);
            p.start();
            BOOST_CHECK_THROW(p.start(), weft::invalid_state_error);
            p.join();
            p.close();
            BOOST_CHECK_THROW(p.join(), weft::invalid_state_error);
            BOOST_CHECK_THROW((void)p.is_alive(), weft::invalid_state_error);
            BOOST_CHECK_THROW(p.start(), weft::invalid_state_error);
            BOOST_TEST(!p.name().empty());

            process running({.start_method = method}, sleep_ms, 60'000);
            running.start();
            BOOST_CHECK_THROW(running.close(), weft::invalid_state_error);
            running.kill();
            running.join();
            running.close();
        }
    }
}

BOOST_AUTO_TEST_CASE(a_joined_child_leaves_no_zombie)
{
    for (const start_method method : all_methods)
    {
        process p({.start_method = method}, sleep_ms, 0);
        p.start();
        const pid_t pid = *p.pid();
        p.join();
        BOOST_TEST(!pid_exists(pid));
    }
}

BOOST_AUTO_TEST_CASE(default_names_count_up_and_the_child_sees_its_name)
{
    process first(sleep_ms, 0);
    process second(sleep_ms, 0);
    BOOST_TEST(first.name().rfind("Process-", 0) == 0);
    const int a = std::stoi(first.name().substr(8));
    const int b = std::stoi(second.name().substr(8));
    BOOST_TEST(b == a + 1);
    BOOST_TEST(weft::current_process_name() == "MainProcess");
}

// The seeds' fork-versus-spawn example: a global changed after startup is seen by a forked
// child only.
BOOST_AUTO_TEST_CASE(only_a_forked_child_inherits_state_changed_after_startup)
{
    global_value = 999;
    for (const start_method method : all_methods)
    {
        scratch_file out;
        process p({.start_method = method}, write_global, out.path());
        p.start();
        p.join();
        BOOST_TEST(out.read() == (method == start_method::fork ? "999" : "777"),
                   weft::to_string(method));
    }
    global_value = 777;
}

BOOST_AUTO_TEST_CASE(processes_move_into_a_vector)
{
    std::vector<process> group;
    for (int i = 0; i < 8; ++i)
    {
        group.emplace_back(process::options{.start_method = all_methods[i % 3]}, exit_with, i);
    }
    for (auto& p : group)
    {
        p.start();
    }
    for (int i = 0; i < 8; ++i)
    {
        group[static_cast<std::size_t>(i)].join();
        BOOST_TEST(exit_of(group[static_cast<std::size_t>(i)]) == i);
    }
}

BOOST_AUTO_TEST_CASE(set_start_method_may_be_set_once)
{
    BOOST_TEST((weft::get_start_method() == start_method::forkserver));
    weft::set_start_method(start_method::spawn);
    BOOST_TEST((weft::get_start_method() == start_method::spawn));
    BOOST_CHECK_THROW(weft::set_start_method(start_method::fork), weft::invalid_state_error);
    weft::set_start_method(start_method::forkserver, true);
    BOOST_TEST((weft::get_start_method() == start_method::forkserver));
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
