#pragma once
// Test support for the cross-process states: an anonymous MAP_SHARED mapping that a forked
// child shares with its parent, plain fork() children that _exit() with a status the parent
// checks, a way to see that a process or thread is asleep in futex(), and a fixture that fails
// a test which leaves a child behind.
//
// Children run one function and _exit() with its return value (an exception: 99). They never
// touch Boost.Test (its state is the parent's) and never start threads: under ThreadSanitizer
// the child of a threaded process must stay single-threaded. Every wait here is bounded; a hang
// kills the children and fails the test instead of stalling the suite.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <new>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>

#include <boost/test/unit_test.hpp>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

namespace weft::testing
{

using namespace std::chrono_literals;

/// How long a test waits for something that should happen soon before calling it a hang.
inline constexpr std::chrono::seconds ipc_hang_limit{30};

/// A T constructed in fresh zero-filled MAP_SHARED memory, seen by forked children at the same
/// address. Not destroyed: the states need no destructor, and unmapping ends them.
template <class T>
class shared
{
  public:
    template <class... Args>
    explicit shared(Args&&... args)
    {
        m_memory =
            ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        BOOST_REQUIRE(m_memory != MAP_FAILED);
        m_object = new (m_memory) T(std::forward<Args>(args)...);
    }
    shared(const shared&) = delete;
    shared& operator=(const shared&) = delete;
    ~shared() { ::munmap(m_memory, sizeof(T)); }

    T* operator->() const noexcept { return m_object; }
    T& operator*() const noexcept { return *m_object; }

  private:
    void* m_memory = nullptr;
    T* m_object = nullptr;
};

/// Forks a child that runs body() and _exit()s with its value (99 if it throws).
inline pid_t fork_child(const std::function<int()>& body)
{
    // Flushed first, or a child's exit could print the parent's buffered output again.
    std::cout.flush();
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0)
    {
        int status = 99;
        try
        {
            status = body();
        }
        catch (...)
        {
        }
        ::_exit(status);
    }
    return pid;
}

/// Reaps `pid`: its exit status, 128 + the signal that killed it, or -1 when it did not end
/// within `limit` (it is killed and reaped then).
inline int reap(pid_t pid, std::chrono::milliseconds limit = ipc_hang_limit)
{
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;)
    {
        int status = 0;
        const pid_t got = ::waitpid(pid, &status, WNOHANG);
        if (got == pid)
        {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (got < 0)
        {
            return -2;
        }
        if (std::chrono::steady_clock::now() >= until)
        {
            std::fprintf(stderr, "child %d still running after the limit: killed\n", pid);
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(1ms);
    }
}

/// The first field of /proc/<path>/syscall: the number of the system call the task is blocked
/// in, -1 when running or unreadable.
inline long blocked_syscall(const std::string& proc_path)
{
    std::ifstream in(proc_path + "/syscall");
    std::string first;
    if (!(in >> first) || first == "running")
    {
        return -1;
    }
    try
    {
        return std::stol(first);
    }
    catch (...)
    {
        return -1;
    }
}

/// Polls `done()` every millisecond for at most `limit`; returns its last value.
template <class Done>
bool soon(Done done, std::chrono::milliseconds limit = ipc_hang_limit)
{
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done())
    {
        if (std::chrono::steady_clock::now() >= until)
        {
            return done();
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

/// True once process `pid` (single-threaded) is asleep in futex().
inline bool asleep_in_futex(pid_t pid)
{
    return soon([&] { return blocked_syscall("/proc/" + std::to_string(pid)) == SYS_futex; });
}

/// True once thread `tid` of this process is asleep in futex().
inline bool thread_asleep_in_futex(pid_t tid)
{
    return soon([&]
                { return blocked_syscall("/proc/self/task/" + std::to_string(tid)) == SYS_futex; });
}

/// True once `pid` has exited (a zombie, not yet reaped).
inline bool is_zombie(pid_t pid)
{
    return soon(
        [&]
        {
            std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
            std::string line;
            std::getline(in, line);
            const auto close = line.rfind(')');
            return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
        });
}

/// Fixture of every test: fails the test if it leaves a child unreaped.
struct no_stray_children
{
    no_stray_children() = default;
    no_stray_children(const no_stray_children&) = delete;
    no_stray_children& operator=(const no_stray_children&) = delete;
    ~no_stray_children()
    {
        int status = 0;
        const pid_t stray = ::waitpid(-1, &status, WNOHANG);
        const bool none = stray < 0 && errno == ECHILD;
        BOOST_TEST(none, "a child was left behind");
    }
};

} // namespace weft::testing
