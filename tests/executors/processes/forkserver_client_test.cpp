// The program's side of the fork server after a fork of the program's own: the forked child
// forgets its parent's server and may exit() normally.
#define BOOST_TEST_MODULE forkserver_client
#define BOOST_TEST_NO_MAIN
#include <cstdlib>
#include <iostream>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <sys/wait.h>

namespace
{

void nothing() {}

} // namespace

// The client's atexit handler stopped the parent's server through the pointer the fork had
// just cleared: a child of the program's own fork() that called exit() died of SIGSEGV.
BOOST_AUTO_TEST_CASE(a_child_of_a_plain_fork_exits_normally_after_the_server_started)
{
    weft::process child({.start_method = weft::start_method::forkserver}, nothing);
    child.start();
    child.join();
    BOOST_TEST(child.exitcode().value() == 0);

    std::cout.flush(); // not printed again by the child's exit()
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0)
    {
        std::exit(7);
    }
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST((WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status)) == 7);
}

// The child may start a fork server of its own and use it.
BOOST_AUTO_TEST_CASE(a_child_of_a_plain_fork_starts_its_own_server)
{
    weft::process first({.start_method = weft::start_method::forkserver}, nothing);
    first.start();
    first.join();

    std::cout.flush(); // not printed again by the child's exit()
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0)
    {
        weft::process grandchild({.start_method = weft::start_method::forkserver}, nothing);
        grandchild.start();
        grandchild.join();
        std::exit(grandchild.exitcode().value_or(-100) == 0 ? 0 : 3);
    }
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST((WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status)) == 0);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
