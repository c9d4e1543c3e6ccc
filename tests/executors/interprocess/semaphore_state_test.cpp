#define BOOST_TEST_MODULE semaphore_state
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/interprocess/detail/semaphore_state.hpp"
#include "fork_support.hpp"

// The semaphore and bounded semaphore state across fork() children and threads (CPython's
// lock_tests.py BaseSemaphoreTests and BoundedSemaphoreTests where they apply).

using namespace std::chrono_literals;
using weft::detail::semaphore_state;
using weft::testing::asleep_in_futex;
using weft::testing::fork_child;
using weft::testing::no_stray_children;
using weft::testing::reap;
using weft::testing::shared;
using clock_type = std::chrono::steady_clock;

namespace
{

clock_type::time_point in(std::chrono::milliseconds d)
{
    return clock_type::now() + d;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(semaphore, no_stray_children)

BOOST_AUTO_TEST_CASE(permits_are_counted)
{
    shared<semaphore_state> sem(2u);
    BOOST_TEST(sem->value() == 2u);
    BOOST_TEST(sem->acquire(std::nullopt));
    BOOST_TEST(sem->acquire(clock_type::now()));
    BOOST_TEST(!sem->acquire(clock_type::now()));
    BOOST_TEST(!sem->try_acquire());
    BOOST_TEST(sem->value() == 0u);
    sem->release();
    BOOST_TEST(sem->value() == 1u);
    BOOST_TEST(sem->try_acquire());
    sem->release(5); // beyond the initial value: allowed unbounded (test_multirelease)
    BOOST_TEST(sem->value() == 5u);
    BOOST_CHECK_THROW(sem->release(0), std::invalid_argument);
    BOOST_TEST(sem->value() == 5u);
}

BOOST_AUTO_TEST_CASE(acquire_times_out_when_no_permit_comes) // test_acquire_timeout
{
    shared<semaphore_state> sem(0u);
    const auto start = clock_type::now();
    BOOST_TEST(!sem->acquire(start + 80ms));
    BOOST_TEST((clock_type::now() - start >= 80ms));
    BOOST_TEST(sem->value() == 0u);
}

BOOST_AUTO_TEST_CASE(release_n_wakes_sleepers_in_other_processes)
{
    shared<semaphore_state> sem(0u);
    std::vector<pid_t> children;
    for (int c = 0; c < 4; ++c)
    {
        children.push_back(fork_child([&] { return sem->acquire(in(20s)) ? 0 : 1; }));
    }
    for (pid_t pid : children)
    {
        BOOST_TEST(asleep_in_futex(pid));
    }
    BOOST_TEST(sem->value() == 0u);
    sem->release(3);
    sem->release(1);
    for (pid_t pid : children)
    {
        BOOST_TEST(reap(pid) == 0);
    }
    BOOST_TEST(sem->value() == 0u);
}

BOOST_AUTO_TEST_CASE(permits_pass_between_processes_and_threads_without_loss)
{
    shared<semaphore_state> sem(0u);
    constexpr int per_producer = 5000;
    // Two producer processes, two consumer threads here: every permit is taken exactly once.
    std::vector<pid_t> producers;
    for (int c = 0; c < 2; ++c)
    {
        producers.push_back(fork_child(
            [&]
            {
                for (int i = 0; i < per_producer; ++i)
                {
                    sem->release();
                }
                return 0;
            }));
    }
    std::atomic<int> taken{0};
    std::vector<std::thread> consumers;
    for (int t = 0; t < 2; ++t)
    {
        consumers.emplace_back(
            [&]
            {
                for (int i = 0; i < per_producer; ++i)
                {
                    if (sem->acquire(in(20s)))
                    {
                        taken.fetch_add(1);
                    }
                }
            });
    }
    for (auto& t : consumers)
    {
        t.join();
    }
    for (pid_t pid : producers)
    {
        BOOST_TEST(reap(pid) == 0);
    }
    BOOST_TEST(taken.load() == 2 * per_producer);
    BOOST_TEST(sem->value() == 0u);
}

BOOST_AUTO_TEST_CASE(bounded_over_release_throws_and_adds_nothing) // test_release_unacquired
{
    shared<semaphore_state> sem(2u, 2u);
    BOOST_TEST(sem->max() == 2u);
    std::string message;
    try
    {
        sem->release();
    }
    catch (const weft::invalid_state_error& e)
    {
        message = e.what();
    }
    BOOST_TEST(message ==
               "weft: interprocess::bounded_semaphore: semaphore released too many times");
    BOOST_TEST(sem->value() == 2u);
    BOOST_TEST(sem->acquire(std::nullopt));
    BOOST_CHECK_THROW(sem->release(2), weft::invalid_state_error);
    sem->release();
    BOOST_TEST(sem->value() == 2u);
}

BOOST_AUTO_TEST_CASE(racing_bounded_releases_never_pass_the_bound)
{
    shared<semaphore_state> sem(0u, 4u);
    shared<std::atomic<int>> accepted(0);
    constexpr int per_process = 8;
    std::vector<pid_t> children;
    for (int c = 0; c < 3; ++c)
    {
        children.push_back(fork_child(
            [&]
            {
                for (int i = 0; i < per_process; ++i)
                {
                    try
                    {
                        sem->release();
                        accepted->fetch_add(1);
                    }
                    catch (const weft::invalid_state_error&)
                    {
                    }
                }
                return 0;
            }));
    }
    for (pid_t pid : children)
    {
        BOOST_TEST(reap(pid) == 0);
    }
    BOOST_TEST(accepted->load() == 4);
    BOOST_TEST(sem->value() == 4u);
}

BOOST_AUTO_TEST_CASE(an_unbounded_value_past_32_bits_throws)
{
    shared<semaphore_state> sem(0xFFFFFFFEu);
    sem->release();
    BOOST_CHECK_THROW(sem->release(), std::overflow_error);
    BOOST_TEST(sem->value() == 0xFFFFFFFFu);
}

BOOST_AUTO_TEST_SUITE_END()
