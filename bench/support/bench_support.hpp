#pragma once
// Helpers shared by the benchmark programs: a clock, medians, peak RSS, running one
// measurement in a forked child (so that each gets its own peak RSS), and a latch a root task
// can await until every spawned task has finished.

#include <algorithm>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sched.h>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>

namespace bench
{

[[nodiscard]] inline std::int64_t now_ns() noexcept
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// Calls `a(i)` and `b()` for i in [0, rounds), alternating which of the two goes first, so
/// that two measurements taken side by side share the moments of a noisy machine evenly.
template <class A, class B>
void interleave(int rounds, A&& a, B&& b)
{
    for (int i = 0; i < rounds; ++i)
    {
        if (i % 2 == 0)
        {
            a(i);
            b();
        }
        else
        {
            b();
            a(i);
        }
    }
}

/// Pins the calling thread (and the threads and processes it starts afterwards) to `cpu`, or
/// back to the CPUs the process had at its first call (-1).
inline void pin(int cpu)
{
    static const cpu_set_t all = []
    {
        cpu_set_t set;
        CPU_ZERO(&set);
        (void)::sched_getaffinity(0, sizeof set, &set);
        return set;
    }();
    if (cpu < 0)
    {
        (void)::sched_setaffinity(0, sizeof all, &all);
        return;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    (void)::sched_setaffinity(0, sizeof one, &one);
}

[[nodiscard]] inline double median(std::vector<double> values)
{
    if (values.empty())
    {
        return 0.0;
    }
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2.0;
}

/// Peak resident set size of this process so far, in bytes (ru_maxrss is in KiB on Linux).
[[nodiscard]] inline std::int64_t peak_rss_bytes() noexcept
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
}

/// Runs `fn` in a forked child and returns what it returned. The child starts with the
/// parent's small footprint, so its peak RSS measures only what `fn` allocates. Exits the
/// program if the child fails.
template <class Result, class Fn>
[[nodiscard]] Result run_in_child(Fn&& fn)
{
    static_assert(std::is_trivially_copyable_v<Result>);
    std::fflush(stdout);
    std::fflush(stderr);
    int fds[2];
    if (pipe(fds) != 0)
    {
        std::perror("pipe");
        std::exit(1);
    }
    const pid_t pid = fork();
    if (pid < 0)
    {
        std::perror("fork");
        std::exit(1);
    }
    if (pid == 0)
    {
        close(fds[0]);
        const Result result = fn();
        const ssize_t written = write(fds[1], &result, sizeof result);
        std::fflush(stdout);
        _exit(written == static_cast<ssize_t>(sizeof result) ? 0 : 1);
    }
    close(fds[1]);
    Result result{};
    std::size_t got = 0;
    auto* out = reinterpret_cast<unsigned char*>(&result);
    while (got < sizeof result)
    {
        const ssize_t n = read(fds[0], out + got, sizeof result - got);
        if (n <= 0)
        {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != sizeof result || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    {
        std::fprintf(stderr, "benchmark child failed (status %d)\n", status);
        std::exit(1);
    }
    return result;
}

/// Counts finished tasks; one coroutine may await the count reaching zero. Single-threaded.
class countdown
{
  public:
    explicit countdown(std::size_t count) noexcept : m_count(count) {}

    /// Returns the waiter to resume when this was the last arrival, else a null handle.
    [[nodiscard]] std::coroutine_handle<> arrive() noexcept
    {
        return --m_count == 0 ? m_waiter : std::coroutine_handle<>{};
    }

    [[nodiscard]] auto wait() noexcept
    {
        struct awaiter
        {
            countdown& self;
            [[nodiscard]] bool await_ready() const noexcept { return self.m_count == 0; }
            void await_suspend(std::coroutine_handle<> h) const noexcept { self.m_waiter = h; }
            void await_resume() const noexcept {}
        };
        return awaiter{*this};
    }

  private:
    std::size_t m_count;
    std::coroutine_handle<> m_waiter;
};

} // namespace bench
