#pragma once
// Test helper: runs a body in a child made by a plain fork(), which reports what it saw in a
// struct in memory shared with the parent, for the tests that change the whole process (its
// resource limits, its capabilities, its process group) and so must not run in the test
// process itself. The child never touches Boost.Test (its state is the parent's): the parent
// checks the report once the child is gone.

#include <chrono>
#include <cstdio>
#include <exception>
#include <new>
#include <signal.h>
#include <thread>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <sys/mman.h>
#include <sys/wait.h>

namespace weft::testing
{

struct forked_child_options
{
    /// The child moves to a process group of its own first (setpgid), as a shell runs a job;
    /// a child still running past `limit` is killed with its whole group.
    bool own_process_group = false;
    /// A child still running after this is killed (SIGKILL) and its report returned as it is.
    std::chrono::milliseconds limit = std::chrono::seconds(30);
};

/// Runs body(report) in a forked child on a zero-initialised R (trivially copyable) in shared
/// memory, and returns a copy of the report once the child exited or was killed. An exception
/// out of the body is printed to stderr; the child then _exit()s with 0 either way, so the
/// report alone says what happened (leave a `finished` field for the body's last line).
template <class R, class Body>
R in_a_forked_child(Body body, forked_child_options options = {})
{
    void* memory =
        ::mmap(nullptr, sizeof(R), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_TEST_REQUIRE(memory != MAP_FAILED);
    auto* report = new (memory) R();
    std::fflush(nullptr); // or the child's exit could print the parent's buffered output again
    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0)
    {
        if (options.own_process_group)
        {
            ::setpgid(0, 0);
        }
        try
        {
            body(*report);
        }
        catch (const std::exception& e)
        {
            std::fprintf(stderr, "child: %s\n", e.what());
        }
        std::fflush(nullptr);
        ::_exit(0);
    }
    int status = -1;
    const auto until = std::chrono::steady_clock::now() + options.limit;
    while (::waitpid(child, &status, WNOHANG) == 0)
    {
        if (std::chrono::steady_clock::now() >= until)
        {
            ::kill(options.own_process_group ? -child : child, SIGKILL);
            (void)::waitpid(child, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    R copy = *report;
    ::munmap(memory, sizeof(R));
    return copy;
}

} // namespace weft::testing
