#define BOOST_TEST_MODULE barrier_state
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/interprocess/detail/barrier_state.hpp"
#include "executors/interprocess/detail/robust_mutex_state.hpp"
#include "fork_support.hpp"

// The barrier state across fork() children and threads (CPython's lock_tests.py BarrierTests
// and multiprocessing's _TestBarrier where they apply), plus a process dying inside it.

using namespace std::chrono_literals;
using weft::detail::barrier_state;
using weft::testing::fork_child;
using weft::testing::no_stray_children;
using weft::testing::reap;
using weft::testing::shared;
using weft::testing::soon;
using clock_type = std::chrono::steady_clock;

namespace
{

clock_type::time_point in(std::chrono::milliseconds d)
{
    return clock_type::now() + d;
}

constexpr int rounds = 5;
constexpr std::uint32_t parties = 10;

struct shared_barrier
{
    explicit shared_barrier(std::uint32_t n) : barrier(n) {}
    barrier_state barrier;
    std::atomic<std::uint32_t> indices[rounds] = {}; // bit i: index i was returned that round
    std::atomic<std::uint32_t> actions{0};
    std::atomic<std::uint32_t> passed{0};
    std::atomic<std::uint32_t> early{0}; // an action that found a waiter of its round released
};

// A child's wait: 0 when it returned, 1 for broken_barrier_error, 2 for anything else.
int outcome(const std::function<void()>& wait)
{
    try
    {
        wait();
        return 0;
    }
    catch (const weft::broken_barrier_error&)
    {
        return 1;
    }
    catch (...)
    {
        return 2;
    }
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(barrier, no_stray_children)

BOOST_AUTO_TEST_CASE(ten_processes_get_distinct_indices_and_one_action_per_round) // test_barrier_10
{
    shared<shared_barrier> s(parties);
    std::vector<pid_t> children;
    for (std::uint32_t c = 0; c < parties; ++c)
    {
        children.push_back(fork_child(
            [&]
            {
                for (int r = 0; r < rounds; ++r)
                {
                    const std::uint32_t index = s->barrier.wait(
                        in(30s),
                        [&]
                        {
                            // Before anyone of this round is released (test_action).
                            if (s->passed.load() != static_cast<std::uint32_t>(r) * parties)
                            {
                                s->early.fetch_add(1);
                            }
                            s->actions.fetch_add(1);
                        });
                    if (index >= parties)
                    {
                        return 3;
                    }
                    s->indices[r].fetch_or(1u << index);
                    s->passed.fetch_add(1);
                }
                return 0;
            }));
    }
    for (pid_t pid : children)
    {
        BOOST_TEST(reap(pid) == 0);
    }
    for (int r = 0; r < rounds; ++r)
    {
        BOOST_TEST(s->indices[r].load() == (1u << parties) - 1);
    }
    BOOST_TEST(s->actions.load() == static_cast<std::uint32_t>(rounds));
    BOOST_TEST(s->early.load() == 0u);
    BOOST_TEST(!s->barrier.broken());
    BOOST_TEST(s->barrier.n_waiting() == 0u);
    BOOST_TEST(s->barrier.parties() == parties);
}

BOOST_AUTO_TEST_CASE(threads_and_processes_trip_it_together)
{
    shared<shared_barrier> s(4);
    std::vector<pid_t> children;
    for (int c = 0; c < 2; ++c)
    {
        children.push_back(fork_child([&] { return outcome([&] { s->barrier.wait(in(30s)); }); }));
    }
    std::atomic<int> through{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)
    {
        threads.emplace_back([&] { through += outcome([&] { s->barrier.wait(in(30s)); }) == 0; });
    }
    for (auto& t : threads)
    {
        t.join();
    }
    for (pid_t pid : children)
    {
        BOOST_TEST(reap(pid) == 0);
    }
    BOOST_TEST(through.load() == 2);
}

BOOST_AUTO_TEST_CASE(a_timeout_breaks_it_for_everyone) // test_timeout
{
    shared<shared_barrier> s(3);
    const pid_t patient = fork_child([&] { return outcome([&] { s->barrier.wait(in(30s)); }); });
    BOOST_TEST(soon([&] { return s->barrier.n_waiting() == 1u; }));
    const auto start = clock_type::now();
    BOOST_CHECK_THROW(s->barrier.wait(start + 80ms), weft::broken_barrier_error);
    BOOST_TEST((clock_type::now() - start >= 80ms));
    BOOST_TEST(reap(patient) == 1);
    BOOST_TEST(s->barrier.broken());
    BOOST_CHECK_THROW(s->barrier.wait(in(10s)), weft::broken_barrier_error);
    s->barrier.reset();
    BOOST_TEST(!s->barrier.broken());
    BOOST_TEST(s->barrier.n_waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(abort_releases_waiters_and_reset_makes_it_usable) // test_abort
{
    shared<shared_barrier> s(3);
    std::vector<pid_t> children;
    for (int c = 0; c < 2; ++c)
    {
        children.push_back(
            fork_child([&] { return outcome([&] { s->barrier.wait(std::nullopt); }); }));
    }
    BOOST_TEST(soon([&] { return s->barrier.n_waiting() == 2u; }));
    s->barrier.abort();
    for (pid_t pid : children)
    {
        BOOST_TEST(reap(pid) == 1);
    }
    BOOST_TEST(s->barrier.broken());
    s->barrier.reset();
    BOOST_TEST(!s->barrier.broken());
    children.clear();
    for (int c = 0; c < 2; ++c)
    {
        children.push_back(fork_child([&] { return outcome([&] { s->barrier.wait(in(30s)); }); }));
    }
    BOOST_TEST(outcome([&] { s->barrier.wait(in(30s)); }) == 0);
    for (pid_t pid : children)
    {
        BOOST_TEST(reap(pid) == 0);
    }
}

BOOST_AUTO_TEST_CASE(reset_with_waiters_inside_breaks_their_wait_only) // test_reset
{
    shared<shared_barrier> s(3);
    std::vector<pid_t> children;
    for (int c = 0; c < 2; ++c)
    {
        children.push_back(fork_child([&] { return outcome([&] { s->barrier.wait(in(30s)); }); }));
    }
    BOOST_TEST(soon([&] { return s->barrier.n_waiting() == 2u; }));
    s->barrier.reset();
    for (pid_t pid : children)
    {
        BOOST_TEST(reap(pid) == 1);
    }
    BOOST_TEST(!s->barrier.broken());
    BOOST_TEST(s->barrier.n_waiting() == 0u);
    children.clear();
    for (int c = 0; c < 2; ++c)
    {
        children.push_back(fork_child([&] { return outcome([&] { s->barrier.wait(in(30s)); }); }));
    }
    BOOST_TEST(outcome([&] { s->barrier.wait(in(30s)); }) == 0);
    for (pid_t pid : children)
    {
        BOOST_TEST(reap(pid) == 0);
    }
}

BOOST_AUTO_TEST_CASE(an_action_that_throws_breaks_it) // test_action (raising)
{
    shared<shared_barrier> s(2);
    const auto wait = [&]
    {
        try
        {
            s->barrier.wait(in(30s), [] { throw std::runtime_error("action"); });
            return 0;
        }
        catch (const std::runtime_error& e)
        {
            return dynamic_cast<const weft::broken_barrier_error*>(&e) != nullptr ? 1 : 2;
        }
    };
    const pid_t child = fork_child(wait);
    const int here = wait();
    const int there = reap(child);
    // Whoever came last ran the action and got its exception; the other, broken.
    BOOST_TEST(here + there == 1 + 2);
    BOOST_TEST(s->barrier.broken());
}

BOOST_AUTO_TEST_CASE(an_empty_action_is_no_action) // test_single_thread
{
    shared<shared_barrier> s(1);
    std::function<void()> none;
    BOOST_TEST(s->barrier.wait(std::nullopt, none) == 0u);
    BOOST_TEST(s->barrier.wait(clock_type::now()) == 0u);
    BOOST_TEST(!s->barrier.broken());
}

BOOST_AUTO_TEST_CASE(a_process_dying_inside_an_operation_breaks_it)
{
    shared<shared_barrier> s(2);
    // The internal mutex is barrier_state's first member (standard layout: same address). A
    // child that exits holding it is a process that died in the middle of an operation.
    auto& inner = *reinterpret_cast<weft::detail::robust_mutex_state*>(&s->barrier);
    const pid_t child = fork_child([&] { return inner.acquire(std::nullopt).acquired ? 0 : 1; });
    BOOST_TEST(reap(child) == 0);
    BOOST_TEST(s->barrier.broken());
    BOOST_CHECK_THROW(s->barrier.wait(in(10s)), weft::broken_barrier_error);
    s->barrier.reset();
    BOOST_TEST(!s->barrier.broken());
}

BOOST_AUTO_TEST_SUITE_END()
