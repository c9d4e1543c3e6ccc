#define BOOST_TEST_MODULE process_reaping
#define BOOST_TEST_NO_MAIN
// No child is left a zombie while its weft::process waits to be joined: weft reaps each one as
// it exits and keeps its exit code; active_children() lists the running ones. And a forked
// child that calls std::exit leaves with its status without running the parent's atexit
// handlers or static destructors, whether it is a weft::process or a fork pool worker.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/eventually.hpp"
#include "support/process_tests.hpp"

using weft::testing::eventually;

namespace
{

// Whether `pid` is a child of this process that nobody has reaped (running or a zombie).
bool unreaped_child(pid_t pid)
{
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text))
    {
        return false;
    }
    const auto close = text.rfind(')');
    if (close == std::string::npos)
    {
        return false;
    }
    std::istringstream rest(text.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    return ppid == ::getpid();
}

bool zombie(pid_t pid)
{
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    std::getline(stat, text);
    const auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
}

// The parent's exit-time code, which a forked child must never run: both append a line naming
// the process that ran them to the file the test names (a plain array: no destructor of its
// own to order against).
char g_witness_path[512] = {};

void witness(const char* what)
{
    if (g_witness_path[0] == '\0')
    {
        return;
    }
    const int fd = ::open(g_witness_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0)
    {
        const std::string line = std::string(what) + " in " + std::to_string(::getpid()) + "\n";
        (void)!::write(fd, line.data(), line.size());
        ::close(fd);
    }
}

struct static_with_destructor
{
    ~static_with_destructor() { witness("static destructor"); }
} g_static;

const int g_atexit_registered = std::atexit([] { witness("atexit handler"); });

// Watches for the parent's exit-time code while alive; the parent's own exit writes nothing.
class witness_file
{
  public:
    witness_file()
    {
        const std::string path = m_file.path();
        std::strncpy(g_witness_path, path.c_str(), sizeof g_witness_path - 1);
    }
    ~witness_file() { g_witness_path[0] = '\0'; }
    witness_file(const witness_file&) = delete;
    witness_file& operator=(const witness_file&) = delete;
    [[nodiscard]] std::string read() const { return m_file.read(); }

  private:
    scratch_file m_file;
};

// Leaves a line in an unflushed stdio buffer, then calls exit().
void write_then_exit(std::string path, int code)
{
    std::FILE* out = std::fopen(path.c_str(), "w");
    std::fputs("flushed", out);
    std::exit(code);
}

int exit_in_task(int code)
{
    std::exit(code);
}

void sleep_then_exit(int ms, int code)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    std::fflush(nullptr);
    std::_Exit(code);
}

// Run in a forked child, which inherited the parent's reaper: starts a grandchild, waits for it
// to be reaped without joining it, and writes its exit code (or what went wrong).
void reap_own_child(std::string path, start_method method)
{
    process grandchild({.start_method = method}, exit_with, 6);
    grandchild.start();
    const pid_t pid = *grandchild.pid();
    const bool reaped = eventually([pid] { return !unreaped_child(pid); });
    std::ofstream(path) << (reaped ? std::to_string(grandchild.exitcode().value_or(-1))
                                   : "left unreaped");
}

} // namespace

BOOST_AUTO_TEST_CASE(a_finished_child_is_reaped_before_anyone_joins_it)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process p({.start_method = method}, exit_with, 7);
            p.start();
            const pid_t pid = *p.pid();
            // Nothing is called on p until the child is gone: no join, is_alive or exitcode.
            BOOST_TEST(eventually([pid] { return !unreaped_child(pid); }));
            BOOST_TEST(!zombie(pid));
            BOOST_TEST(exit_of(p) == 7);
            BOOST_TEST(!p.is_alive());
            BOOST_TEST(p.join(0s));
            BOOST_TEST(exit_of(p) == 7);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_killed_child_is_reaped_and_reports_the_signal)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process p({.start_method = method}, sleep_ms, 60'000);
            p.start();
            const pid_t pid = *p.pid();
            BOOST_REQUIRE(::kill(pid, SIGKILL) == 0);
            BOOST_TEST(eventually([pid] { return !unreaped_child(pid); }));
            BOOST_TEST(exit_of(p) == -SIGKILL);
            p.kill(); // no effect on a reaped child, and no stranger's pid
            p.close();
        }
    }
}

BOOST_AUTO_TEST_CASE(many_unjoined_children_are_all_reaped_with_their_own_codes)
{
    std::vector<process> group;
    for (int i = 0; i < 24; ++i)
    {
        group.emplace_back(process::options{.start_method = all_methods[i % 3]}, sleep_then_exit,
                           (i % 4) * 20, i);
        group.back().start();
    }
    // Half are polled from other threads while the reaper reaps them: each is reaped once.
    std::vector<std::thread> pollers;
    for (std::size_t i = 0; i < group.size(); i += 2)
    {
        pollers.emplace_back(
            [&p = group[i]]
            {
                while (!p.exitcode())
                {
                    std::this_thread::sleep_for(1ms);
                }
            });
    }
    for (auto& poller : pollers)
    {
        poller.join();
    }
    for (std::size_t i = 0; i < group.size(); ++i)
    {
        const pid_t pid = *group[i].pid();
        BOOST_TEST(eventually([pid] { return !unreaped_child(pid); }));
        BOOST_TEST(exit_of(group[i]) == static_cast<int>(i));
    }
}

BOOST_AUTO_TEST_CASE(active_children_lists_the_running_ones)
{
    process sleeper({.name = "sleeper"}, sleep_ms, 60'000);
    process quick({.name = "quick", .start_method = start_method::fork}, exit_with, 0);
    sleeper.start();
    quick.start();
    const pid_t sleeper_pid = *sleeper.pid();
    const pid_t quick_pid = *quick.pid();
    auto listed = [](pid_t pid)
    {
        const auto children = weft::active_children();
        return std::any_of(children.begin(), children.end(),
                           [pid](const weft::active_child& c) { return c.pid == pid; });
    };
    BOOST_TEST(eventually([&] { return !listed(quick_pid); }));
    BOOST_TEST(!unreaped_child(quick_pid)); // what active_children() drops is reaped
    const auto children = weft::active_children();
    const auto found =
        std::find_if(children.begin(), children.end(),
                     [&](const weft::active_child& c) { return c.pid == sleeper_pid; });
    BOOST_REQUIRE(found != children.end());
    BOOST_TEST(found->name == "sleeper");
    sleeper.kill();
    sleeper.join();
    BOOST_TEST(!listed(sleeper_pid));
    BOOST_TEST(exit_of(quick) == 0);
}

// The fork server is a child too: killed by someone, it is reaped at once (it used to stay a
// zombie until the next forkserver start), and the next start brings up a new one.
BOOST_AUTO_TEST_CASE(a_killed_fork_server_is_reaped_and_replaced)
{
    process first({.start_method = start_method::forkserver}, exit_with, 0);
    first.start();
    BOOST_TEST(first.join(30s));
    std::vector<pid_t> live;
    for (const auto& entry : std::filesystem::directory_iterator("/proc"))
    {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") == std::string::npos)
        {
            const auto pid = static_cast<pid_t>(std::stoi(name));
            if (unreaped_child(pid) && !zombie(pid))
            {
                live.push_back(pid);
            }
        }
    }
    BOOST_REQUIRE(live.size() == 1U); // the server, and nothing else of this test runs
    const pid_t server = live.front();
    BOOST_TEST(weft::active_children().empty()); // weft's own, not the program's
    BOOST_REQUIRE(::kill(server, SIGKILL) == 0);
    BOOST_TEST(eventually([server] { return !unreaped_child(server); }));
    process second({.start_method = start_method::forkserver}, exit_with, 5);
    second.start();
    BOOST_TEST(second.join(30s));
    BOOST_TEST(exit_of(second) == 5);
}

BOOST_AUTO_TEST_CASE(a_forked_child_reaps_its_own_children)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            scratch_file out;
            process p({.start_method = start_method::fork}, reap_own_child, out.path(), method);
            p.start();
            p.join();
            BOOST_TEST(exit_of(p) == 0);
            BOOST_TEST(out.read() == "6");
        }
    }
}

BOOST_AUTO_TEST_CASE(std_exit_in_a_forked_child_keeps_its_status_and_not_the_parents_exit)
{
    witness_file witnessed;
    scratch_file out;
    process p({.start_method = start_method::fork}, write_then_exit, out.path(), 3);
    p.start();
    p.join();
    BOOST_TEST(exit_of(p) == 3);
    BOOST_TEST(out.read() == "flushed"); // stdio is still flushed
    BOOST_TEST(witnessed.read() == "");
}

BOOST_AUTO_TEST_CASE(std_exit_in_a_fork_pool_task_fails_it_without_the_parents_exit)
{
    witness_file witnessed;
    weft::process_pool_executor pool({.max_workers = 1, .start_method = start_method::fork});
    auto doomed = pool.submit(exit_in_task, 3);
    BOOST_CHECK_EXCEPTION(doomed.result(30s), weft::worker_died_error,
                          [](const weft::worker_died_error& e) {
                              return e.exitcode() == 3 &&
                                     std::string(e.what()).find("code 3") != std::string::npos;
                          });
    pool.shutdown(true);
    BOOST_TEST(witnessed.read() == "");
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
