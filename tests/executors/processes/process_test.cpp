#define BOOST_TEST_MODULE process
#define BOOST_TEST_NO_MAIN
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <system_error>

#include "executors/processes/detail/launch.hpp"

using namespace std::chrono_literals;
using weft::process;
using weft::start_method;

namespace
{

constexpr start_method all_methods[] = {start_method::fork, start_method::spawn,
                                        start_method::forkserver};

// A scratch file per test case, removed afterwards.
class scratch_file
{
  public:
    scratch_file()
        : m_path(std::filesystem::temp_directory_path() /
                 ("weft_process_test_" + std::to_string(::getpid()) + "_" +
                  std::to_string(s_counter++)))
    {
    }
    ~scratch_file() { std::filesystem::remove(m_path); }
    [[nodiscard]] std::string path() const { return m_path.string(); }
    [[nodiscard]] std::string read() const
    {
        std::ifstream in(m_path);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

  private:
    static inline int s_counter = 0;
    std::filesystem::path m_path;
};

bool pid_exists(pid_t pid)
{
    return ::kill(pid, 0) == 0 || errno != ESRCH;
}

// Alive and not a zombie: an orphan's zombie lingers until whoever adopted it reaps it, and
// in a container that may be never.
bool pid_running(pid_t pid)
{
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text))
    {
        return false;
    }
    const auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z' &&
           text[close + 2] != 'X';
}

struct point
{
    int x;
    double y;
};

struct labelled
{
    std::string label;
    std::vector<int> values;
    template <class Archive>
    void serialize(Archive& archive)
    {
        archive(label, values);
    }
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

void exit_with(int code)
{
    std::fflush(nullptr);
    std::_Exit(code);
}

void sleep_ms(int ms)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

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

constexpr int still_running = 1000; // not an exit code: those are 0..255 or minus a signal

int exit_of(process& p)
{
    return p.exitcode().value_or(still_running);
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

// In a forkserver child: its pid, whether gettid() is that pid, whether a recursive lock taken
// twice knows this thread as its owner (glibc's cached TID is in its futex word), and whether
// an error-checking lock refuses this thread a second time and is released by it.
void report_identity(std::string path, weft::interprocess::rlock r, weft::interprocess::lock m)
{
    const pid_t pid = ::getpid();
    const bool tid = ::gettid() == pid;
    (void)r.acquire();
    (void)r.acquire();
    const bool owns = r.is_owned() && r.recursion_count() == 2;
    r.release();
    r.release();
    (void)m.acquire();
    const bool refused = !m.acquire(false);
    m.release();
    std::ofstream(path) << pid << ' ' << tid << ' ' << owns << ' ' << refused;
}

// Run in a forked child (whose fork server is its own): a forkserver grandchild made while the
// server behaves as on a kernel without PR_GET_TID_ADDRESS; writes what it reported, checked
// against what this process sees.
void identity_without_prctl(std::string path)
{
    weft::detail::set_forkserver_tid_lookup_for_testing(
        weft::detail::tid_field_lookup::without_prctl);
    weft::interprocess::rlock r;
    weft::interprocess::lock m;
    const std::string inner = path + ".inner";
    process child({.start_method = start_method::forkserver}, report_identity, inner, r, m);
    child.start();
    const bool joined = child.join(30s);
    pid_t pid = 0;
    int tid = 0;
    int owns = 0;
    int refused = 0;
    std::ifstream(inner) >> pid >> tid >> owns >> refused;
    std::filesystem::remove(inner);
    std::ofstream(path) << "joined " << joined << " exit " << child.exitcode().value_or(-1)
                        << " pid " << (pid == child.pid()) << " tid " << tid << " owns " << owns
                        << " refused " << refused << " free " << (!r.locked() && !m.locked());
}

// Run in a forked child: a forkserver child when the server finds no way to glibc's TID field.
void forkserver_without_tid_field(std::string path)
{
    weft::detail::set_forkserver_tid_lookup_for_testing(weft::detail::tid_field_lookup::none);
    process child({.start_method = start_method::forkserver}, exit_with, 0);
    try
    {
        child.start();
        child.join(30s);
        std::ofstream(path) << "started";
    }
    catch (const std::system_error& e)
    {
        std::ofstream(path) << e.code().value() << ' ' << e.what();
    }
}

template <class Predicate>
bool eventually(Predicate ready, std::chrono::milliseconds limit = 10s)
{
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (!ready())
    {
        if (std::chrono::steady_clock::now() > give_up)
        {
            return false;
        }
        std::this_thread::sleep_for(5ms);
    }
    return true;
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
    process p(sleep_ms, 300);
    p.start();
    const auto begin = std::chrono::steady_clock::now();
    BOOST_TEST(!p.join(50ms));
    BOOST_TEST((std::chrono::steady_clock::now() - begin >= 50ms));
    BOOST_TEST(p.is_alive());
    BOOST_TEST(p.join(10s));
    BOOST_TEST(!p.is_alive());
    BOOST_TEST(exit_of(p) == 0);
}

BOOST_AUTO_TEST_CASE(calls_in_the_wrong_state_are_clear_errors)
{
    process p(sleep_ms, 0);
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

    process running(sleep_ms, 60'000);
    running.start();
    BOOST_CHECK_THROW(running.close(), weft::invalid_state_error);
    running.kill();
    running.join();
    running.close();
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
    pid_t pid = 0;
    const auto begin = std::chrono::steady_clock::now();
    {
        process p({.daemon = true}, sleep_ms, 60'000);
        p.start();
        pid = *p.pid();
    }
    BOOST_TEST((std::chrono::steady_clock::now() - begin < 10s));
    BOOST_TEST(!pid_exists(pid));
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

BOOST_AUTO_TEST_CASE(a_child_started_from_a_short_lived_thread_outlives_the_thread)
{
    for (const start_method method : all_methods)
    {
        process p({.start_method = method}, sleep_ms, 300);
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

BOOST_AUTO_TEST_CASE(a_forkserver_child_has_its_own_thread_id_without_pr_get_tid_address)
{
    scratch_file out;
    process middle({.start_method = start_method::fork}, identity_without_prctl, out.path());
    middle.start();
    BOOST_TEST(middle.join(60s));
    BOOST_TEST(exit_of(middle) == 0);
    BOOST_TEST(out.read() == "joined 1 exit 0 pid 1 tid 1 owns 1 refused 1 free 1");
}

BOOST_AUTO_TEST_CASE(a_fork_server_that_cannot_find_the_thread_id_refuses_naming_why)
{
    scratch_file out;
    process middle({.start_method = start_method::fork}, forkserver_without_tid_field, out.path());
    middle.start();
    BOOST_TEST(middle.join(60s));
    BOOST_TEST(exit_of(middle) == 0);
    const std::string text = out.read();
    BOOST_TEST(text.rfind(std::to_string(EOPNOTSUPP) + " ", 0) == 0U, text);
    BOOST_TEST(text.find("PR_GET_TID_ADDRESS") != std::string::npos, text);
    BOOST_TEST(text.find("start_method::spawn") != std::string::npos, text);
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

weft::task<void> join_and_note(process& child, bool& joined)
{
    co_await child.async_join();
    joined = true;
}

// The loop ticks five times while a task awaits the child, then kills it: the await neither
// blocks the loop nor completes early.
BOOST_AUTO_TEST_CASE(a_coroutine_awaits_a_child_while_its_loop_keeps_running)
{
    for (const start_method method : all_methods)
    {
        process p({.start_method = method}, sleep_ms, 60'000);
        p.start();
        weft::event_loop loop;
        int ticks = 0;
        bool joined_early = false;
        bool joined = false;
        loop.run(
            [](process& child, int& n, bool& early, bool& done) -> weft::task<void>
            {
                weft::task_group group;
                group.spawn(join_and_note(child, done));
                for (; n < 5; ++n)
                {
                    co_await weft::sleep_for(10ms);
                    early = early || done;
                }
                child.kill();
                co_await group.join();
            }(p, ticks, joined_early, joined));
        BOOST_TEST(ticks == 5);
        BOOST_TEST(!joined_early, weft::to_string(method));
        BOOST_TEST(joined, weft::to_string(method));
        BOOST_TEST(exit_of(p) == -SIGKILL, weft::to_string(method));
    }
}

BOOST_AUTO_TEST_CASE(an_async_join_is_cancelled_by_its_token)
{
    process p(sleep_ms, 60'000);
    p.start();
    weft::event_loop loop;
    std::stop_source stop;
    bool cancelled = false;
    loop.run(
        [](process& child, std::stop_source& s, bool& out) -> weft::task<void>
        {
            weft::task_group group;
            group.spawn(weft::with_stop_token(s.get_token(),
                                              [](process& c, bool& o) -> weft::task<void>
                                              {
                                                  try
                                                  {
                                                      co_await c.async_join();
                                                  }
                                                  catch (const weft::operation_cancelled&)
                                                  {
                                                      o = true;
                                                  }
                                              }(child, out)));
            co_await weft::sleep_for(20ms);
            s.request_stop();
            co_await group.join();
        }(p, stop, cancelled));
    BOOST_TEST(cancelled);
    BOOST_TEST(p.is_alive());
    p.kill();
    p.join();
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
