#define BOOST_TEST_MODULE process_forkserver
#define BOOST_TEST_NO_MAIN
// The fork server's children and glibc's cached thread id: a forkserver child knows its own
// thread id without PR_GET_TID_ADDRESS, and a server that finds no way to set it refuses to
// fork, naming why (both through detail::set_forkserver_tid_lookup_for_testing, in a forked
// child whose fork server is its own).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <system_error>

#include "executors/processes/detail/launch.hpp"
#include "support/process_tests.hpp"

namespace
{

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

} // namespace

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

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
