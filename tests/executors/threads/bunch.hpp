#pragma once
// CPython's lock_tests.Bunch for the tests of executors/threads/: a group of std::threads that
// run one function, with bounded waits for them to start and finish. A group that does not
// finish in time aborts the test program with a message (and a core, stacks included) instead
// of hanging, so every wait in these tests is bounded. Boost.Test's assertions are not
// thread-safe: bodies record what they saw, the main thread checks it.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

namespace weft::testing
{

using namespace std::chrono_literals;

/// How long any test waits for something that should happen at once before calling it a hang.
inline constexpr std::chrono::seconds hang_limit{30};

/// Polls `done()` every millisecond for at most `limit`; returns its last value.
template <class Done>
bool eventually(Done done, std::chrono::milliseconds limit = hang_limit)
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

/// CPython's _wait(): a short pause that lets other threads reach the point they block at.
inline void settle()
{
    std::this_thread::sleep_for(20ms);
}

/// Runs body(i) on n threads, i = 0..n-1.
class bunch
{
  public:
    bunch(std::size_t n, std::function<void(std::size_t)> body) : m_body(std::move(body)), m_n(n)
    {
        m_threads.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
        {
            m_threads.emplace_back(
                [this, i]
                {
                    m_started.fetch_add(1);
                    m_body(i);
                    m_finished.fetch_add(1);
                });
        }
    }
    bunch(const bunch&) = delete;
    bunch& operator=(const bunch&) = delete;
    ~bunch()
    {
        if (!wait_for_finished())
        {
            std::fprintf(stderr, "bunch: %zu of %zu threads still running after %llds: hang\n",
                         m_n - finished(), m_n, static_cast<long long>(hang_limit.count()));
            std::abort();
        }
        for (auto& t : m_threads)
        {
            t.join();
        }
    }

    /// True once every thread has entered body.
    bool wait_for_started()
    {
        return eventually([&] { return m_started.load() == m_n; });
    }
    /// True once every body has returned.
    bool wait_for_finished()
    {
        return eventually([&] { return finished() == m_n; });
    }
    [[nodiscard]] std::size_t finished() const { return m_finished.load(); }

  private:
    std::function<void(std::size_t)> m_body;
    std::size_t m_n;
    std::atomic<std::size_t> m_started{0};
    std::atomic<std::size_t> m_finished{0};
    std::vector<std::thread> m_threads;
};

/// Elapsed time of `fn()` on the steady clock.
template <class Fn>
std::chrono::steady_clock::duration timed(Fn fn)
{
    const auto start = std::chrono::steady_clock::now();
    fn();
    return std::chrono::steady_clock::now() - start;
}

} // namespace weft::testing
