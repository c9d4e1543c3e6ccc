#define BOOST_TEST_MODULE barrier
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/threads/bunch.hpp"

// Ports of CPython's Lib/test/lock_tests.py BarrierTests for weft::barrier (N = 5 threads, as
// there). Bodies record into atomics; the main thread checks.

using namespace std::chrono_literals;
using weft::testing::bunch;
using weft::testing::eventually;
using weft::testing::settle;
using weft::testing::timed;

namespace
{

constexpr std::size_t n = 5;

// BarrierTests.multipass: every thread passes the barrier `passes` times, twice per pass, and
// between the two waits sees that all parties have done the first half.
bool multipass(weft::barrier& barrier, std::size_t passes)
{
    std::atomic<std::size_t> first_half{0};
    std::atomic<std::size_t> second_half{0};
    std::atomic<bool> ok{true};
    {
        bunch b(n,
                [&](std::size_t)
                {
                    for (std::size_t i = 0; i < passes; ++i)
                    {
                        first_half.fetch_add(1);
                        if (second_half.load() != i * n)
                        {
                            ok = false;
                        }
                        barrier.wait(weft::testing::hang_limit);
                        second_half.fetch_add(1);
                        if (first_half.load() != (i + 1) * n)
                        {
                            ok = false;
                        }
                        barrier.wait(weft::testing::hang_limit);
                    }
                });
    }
    return ok.load() && barrier.n_waiting() == 0 && !barrier.broken();
}

} // namespace

BOOST_AUTO_TEST_CASE(parties_below_one_throw_invalid_argument)
{
    BOOST_CHECK_THROW(weft::barrier(0), std::invalid_argument);
    BOOST_CHECK_THROW(weft::barrier(-1), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(threads_pass_together_once) // test_barrier
{
    weft::barrier barrier(n);
    BOOST_TEST(barrier.parties() == n);
    BOOST_TEST(multipass(barrier, 1));
}

BOOST_AUTO_TEST_CASE(threads_pass_together_ten_times) // test_barrier_10
{
    weft::barrier barrier(n);
    BOOST_TEST(multipass(barrier, 10));
}

BOOST_AUTO_TEST_CASE(wait_returns_each_arrival_index_once) // test_wait_return
{
    weft::barrier barrier(n);
    std::mutex results_mutex;
    std::vector<std::size_t> results;
    {
        bunch b(n,
                [&](std::size_t)
                {
                    const std::size_t index = barrier.wait(weft::testing::hang_limit);
                    std::lock_guard<std::mutex> held(results_mutex);
                    results.push_back(index);
                });
    }
    std::sort(results.begin(), results.end());
    std::vector<std::size_t> expected;
    for (std::size_t i = 0; i < n; ++i)
    {
        expected.push_back(i);
    }
    BOOST_TEST(results == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(action_runs_once_before_anyone_is_released) // test_action
{
    std::atomic<int> actions{0};
    weft::barrier barrier(n, [&] { actions.fetch_add(1); });
    std::atomic<int> saw_one{0};
    {
        bunch b(n,
                [&](std::size_t)
                {
                    barrier.wait(weft::testing::hang_limit);
                    if (actions.load() == 1)
                    {
                        saw_one.fetch_add(1);
                    }
                });
    }
    BOOST_TEST(actions.load() == 1);
    BOOST_TEST(saw_one.load() == static_cast<int>(n));
}

BOOST_AUTO_TEST_CASE(
    action_that_throws_breaks_the_barrier_for_everyone_else) // test_action_exception
{
    weft::barrier barrier(n, [] { throw std::runtime_error("action failed"); });
    std::atomic<int> broken{0};
    std::atomic<int> action_errors{0};
    {
        bunch b(n,
                [&](std::size_t)
                {
                    try
                    {
                        barrier.wait(weft::testing::hang_limit);
                    }
                    catch (const weft::broken_barrier_error&)
                    {
                        broken.fetch_add(1);
                    }
                    catch (const std::runtime_error&)
                    {
                        action_errors.fetch_add(1);
                    }
                });
    }
    BOOST_TEST(action_errors.load() == 1);
    BOOST_TEST(broken.load() == static_cast<int>(n) - 1);
    BOOST_TEST(barrier.broken());
}

BOOST_AUTO_TEST_CASE(abort_breaks_it_for_current_and_later_waiters) // test_abort
{
    weft::barrier barrier(n);
    std::atomic<int> passed{0};
    std::atomic<int> broken{0};
    {
        bunch b(n,
                [&](std::size_t)
                {
                    try
                    {
                        const std::size_t i = barrier.wait(weft::testing::hang_limit);
                        if (i == n / 2)
                        {
                            // Python raises RuntimeError here and aborts in the handler.
                            barrier.abort();
                            return;
                        }
                        barrier.wait(weft::testing::hang_limit);
                        passed.fetch_add(1);
                    }
                    catch (const weft::broken_barrier_error&)
                    {
                        broken.fetch_add(1);
                    }
                });
    }
    BOOST_TEST(passed.load() == 0);
    BOOST_TEST(broken.load() == static_cast<int>(n) - 1);
    BOOST_TEST(barrier.broken());
    BOOST_CHECK_THROW(barrier.wait(0s), weft::broken_barrier_error);
}

BOOST_AUTO_TEST_CASE(reset_breaks_current_waiters_then_the_barrier_works_again) // test_reset
{
    weft::barrier barrier(n);
    std::atomic<int> passed{0};
    std::atomic<int> broken{0};
    std::atomic<int> passed_again{0};
    {
        bunch b(n,
                [&](std::size_t)
                {
                    const std::size_t i = barrier.wait(weft::testing::hang_limit);
                    if (i == n / 2)
                    {
                        // Wait until the others are all in the barrier.
                        (void)eventually([&] { return barrier.n_waiting() == n - 1; });
                        barrier.reset();
                    }
                    else
                    {
                        try
                        {
                            barrier.wait(weft::testing::hang_limit);
                            passed.fetch_add(1);
                        }
                        catch (const weft::broken_barrier_error&)
                        {
                            broken.fetch_add(1);
                        }
                    }
                    // Now, pass the barrier again.
                    barrier.wait(weft::testing::hang_limit);
                    passed_again.fetch_add(1);
                });
    }
    BOOST_TEST(passed.load() == 0);
    BOOST_TEST(broken.load() == static_cast<int>(n) - 1);
    BOOST_TEST(passed_again.load() == static_cast<int>(n));
    BOOST_TEST(!barrier.broken());
}

BOOST_AUTO_TEST_CASE(reset_after_abort_makes_the_barrier_usable) // test_abort_and_reset
{
    weft::barrier barrier(n);
    weft::barrier barrier2(n);
    std::atomic<int> passed{0};
    std::atomic<int> broken{0};
    std::atomic<int> passed_again{0};
    {
        bunch b(n,
                [&](std::size_t)
                {
                    try
                    {
                        const std::size_t i = barrier.wait(weft::testing::hang_limit);
                        if (i == n / 2)
                        {
                            barrier.abort();
                        }
                        else
                        {
                            barrier.wait(weft::testing::hang_limit);
                            passed.fetch_add(1);
                        }
                    }
                    catch (const weft::broken_barrier_error&)
                    {
                        broken.fetch_add(1);
                    }
                    // Synchronise before the reset, so that everyone has left the barrier,
                    // and after it, so that nobody enters it before.
                    if (barrier2.wait(weft::testing::hang_limit) == n / 2)
                    {
                        barrier.reset();
                    }
                    barrier2.wait(weft::testing::hang_limit);
                    barrier.wait(weft::testing::hang_limit);
                    passed_again.fetch_add(1);
                });
    }
    BOOST_TEST(passed.load() == 0);
    BOOST_TEST(broken.load() == static_cast<int>(n) - 1);
    BOOST_TEST(passed_again.load() == static_cast<int>(n));
}

BOOST_AUTO_TEST_CASE(a_wait_that_times_out_breaks_the_barrier) // test_timeout
{
    weft::barrier barrier(n);
    std::atomic<int> broken{0};
    {
        bunch b(n,
                [&](std::size_t)
                {
                    const std::size_t i = barrier.wait(weft::testing::hang_limit);
                    if (i == n / 2)
                    {
                        std::this_thread::sleep_for(500ms); // one thread is late
                    }
                    try
                    {
                        barrier.wait(100ms);
                    }
                    catch (const weft::broken_barrier_error&)
                    {
                        broken.fetch_add(1);
                    }
                });
    }
    BOOST_TEST(broken.load() == static_cast<int>(n));
    BOOST_TEST(barrier.broken());
}

BOOST_AUTO_TEST_CASE(wait_without_a_timeout_uses_the_default_one) // test_default_timeout
{
    weft::barrier barrier(2, {}, 100ms);
    std::atomic<bool> broken{false};
    const auto waited = timed(
        [&]
        {
            bunch b(1,
                    [&](std::size_t)
                    {
                        try
                        {
                            barrier.wait();
                        }
                        catch (const weft::broken_barrier_error&)
                        {
                            broken = true;
                        }
                    });
        });
    BOOST_TEST(broken.load());
    BOOST_TEST((waited >= 100ms));
    BOOST_TEST(barrier.broken());
}

BOOST_AUTO_TEST_CASE(a_single_party_barrier_never_blocks) // test_single_thread
{
    int actions = 0;
    weft::barrier barrier(1, [&] { ++actions; });
    BOOST_TEST(barrier.wait() == 0u);
    BOOST_TEST(barrier.wait() == 0u);
    BOOST_TEST(actions == 2);
}

BOOST_AUTO_TEST_CASE(n_waiting_counts_the_blocked_parties)
{
    weft::barrier barrier(3);
    BOOST_TEST(barrier.n_waiting() == 0u);
    bunch b(2, [&](std::size_t) { barrier.wait(weft::testing::hang_limit); });
    BOOST_REQUIRE(eventually([&] { return barrier.n_waiting() == 2; }));
    BOOST_TEST(barrier.wait(weft::testing::hang_limit) == 2u);
    BOOST_REQUIRE(b.wait_for_finished());
    BOOST_TEST(barrier.n_waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(an_action_may_abort_the_barrier_it_runs_in)
{
    weft::barrier* self = nullptr;
    weft::barrier barrier(2, [&] { self->abort(); });
    self = &barrier;
    std::atomic<int> broken{0};
    {
        bunch b(2,
                [&](std::size_t)
                {
                    try
                    {
                        barrier.wait(weft::testing::hang_limit);
                    }
                    catch (const weft::broken_barrier_error&)
                    {
                        broken.fetch_add(1);
                    }
                });
    }
    BOOST_TEST(broken.load() == 2);
    BOOST_TEST(barrier.broken());
}
