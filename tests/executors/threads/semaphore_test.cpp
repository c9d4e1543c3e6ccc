#define BOOST_TEST_MODULE semaphore
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/threads/bunch.hpp"

// Ports of CPython's Lib/test/lock_tests.py BaseSemaphoreTests and SemaphoreTests.

using namespace std::chrono_literals;
using weft::testing::bunch;
using weft::testing::eventually;
using weft::testing::settle;
using weft::testing::timed;

BOOST_AUTO_TEST_CASE(negative_initial_value_throws_invalid_argument) // test_constructor
{
    BOOST_CHECK_THROW(weft::semaphore(-1), std::invalid_argument);
    BOOST_CHECK_THROW(weft::semaphore(-2), std::invalid_argument); // the seeds' Semaphore(-2)
    weft::semaphore zero(0);
    BOOST_TEST(zero.value() == 0u);
    weft::semaphore one;
    BOOST_TEST(one.value() == 1u);
}

BOOST_AUTO_TEST_CASE(acquire_and_release_count_permits) // test_acquire
{
    weft::semaphore sem(2);
    BOOST_TEST(sem.acquire());
    BOOST_TEST(sem.acquire(false));
    BOOST_TEST(sem.value() == 0u);
    BOOST_TEST(!sem.acquire(false));
    sem.release();
    BOOST_TEST(sem.value() == 1u);
    sem.release(2);
    BOOST_TEST(sem.value() == 3u);
}

BOOST_AUTO_TEST_CASE(only_value_acquirers_pass_until_released) // test_acquire_contended
{
    weft::semaphore sem(7);
    sem.acquire();
    std::mutex results_mutex;
    std::vector<int> results1;
    std::vector<int> results2;
    std::atomic<int> phase{0};
    {
        bunch b(10,
                [&](std::size_t)
                {
                    sem.acquire();
                    {
                        std::lock_guard<std::mutex> held(results_mutex);
                        results1.push_back(phase.load());
                    }
                    sem.acquire();
                    std::lock_guard<std::mutex> held(results_mutex);
                    results2.push_back(phase.load());
                });
        const auto passed = [&]
        {
            std::lock_guard<std::mutex> held(results_mutex);
            return results1.size() + results2.size();
        };
        BOOST_REQUIRE(eventually([&] { return passed() == 6; }));
        settle();
        BOOST_TEST(passed() == 6u);
        phase = 1;
        for (int i = 0; i < 7; ++i)
        {
            sem.release();
        }
        BOOST_REQUIRE(eventually([&] { return passed() == 13; }));
        settle();
        BOOST_TEST(passed() == 13u);
        phase = 2;
        for (int i = 0; i < 7; ++i)
        {
            sem.release();
        }
        BOOST_REQUIRE(eventually([&] { return passed() == 20; }));
    }
    std::vector<int> all = results1;
    all.insert(all.end(), results2.begin(), results2.end());
    std::sort(all.begin(), all.end());
    std::vector<int> expected(6, 0);
    expected.insert(expected.end(), 7, 1);
    expected.insert(expected.end(), 7, 2);
    BOOST_TEST(all == expected, boost::test_tools::per_element());
    BOOST_TEST(sem.value() == 0u);
}

BOOST_AUTO_TEST_CASE(release_n_lets_exactly_n_blocked_acquirers_through) // test_multirelease
{
    weft::semaphore sem(0);
    std::atomic<int> through{0};
    bunch b(10,
            [&](std::size_t)
            {
                sem.acquire();
                through.fetch_add(1);
            });
    BOOST_REQUIRE(b.wait_for_started());
    settle();
    BOOST_TEST(through.load() == 0);
    sem.release(7);
    BOOST_REQUIRE(eventually([&] { return through.load() == 7; }));
    settle();
    BOOST_TEST(through.load() == 7);
    sem.release(3);
    BOOST_REQUIRE(b.wait_for_finished());
    BOOST_TEST(sem.value() == 0u);
}

BOOST_AUTO_TEST_CASE(acquire_timeout_returns_false_after_the_timeout) // test_acquire_timeout
{
    weft::semaphore sem(2);
    BOOST_CHECK_THROW(sem.acquire(false, 1s), std::invalid_argument);
    BOOST_TEST(sem.acquire(5ms));
    BOOST_TEST(sem.acquire(5ms));
    BOOST_TEST(!sem.acquire(5ms));
    sem.release();
    BOOST_TEST(sem.acquire(5ms));
    bool got = true;
    const auto waited = timed([&] { got = sem.acquire(200ms); });
    BOOST_TEST(!got);
    BOOST_TEST(waited >= 200ms);
}

BOOST_AUTO_TEST_CASE(try_acquire_fails_while_another_thread_holds_the_permit)
{
    weft::semaphore sem(1);
    sem.acquire();
    bool got = true;
    {
        bunch b(1, [&](std::size_t) { got = sem.acquire(false); });
    }
    BOOST_TEST(!got);
}

BOOST_AUTO_TEST_CASE(release_beyond_the_initial_value_is_allowed) // test_release_unacquired
{
    weft::semaphore sem;
    sem.release();
    sem.acquire();
    sem.acquire();
    sem.release();
    sem.release();
    sem.release();
    BOOST_TEST(sem.value() == 3u);
}

BOOST_AUTO_TEST_CASE(release_of_zero_permits_throws_invalid_argument)
{
    weft::semaphore sem;
    BOOST_CHECK_THROW(sem.release(0), std::invalid_argument);
    BOOST_TEST(sem.value() == 1u);
}

BOOST_AUTO_TEST_CASE(a_release_before_the_acquire_is_not_lost) // the seeds' missed signal
{
    weft::semaphore sem(0);
    {
        bunch b(1, [&](std::size_t) { sem.release(); });
    }
    bool got = false;
    {
        bunch b(1, [&](std::size_t) { got = sem.acquire(5s); });
    }
    BOOST_TEST(got);
}

BOOST_AUTO_TEST_CASE(guard_and_std_lock_guard_hold_a_permit_for_the_scope) // test_with
{
    weft::semaphore sem(2);
    {
        auto held = sem.guard();
        BOOST_TEST(sem.value() == 1u);
        std::lock_guard<weft::semaphore> also(sem);
        BOOST_TEST(sem.value() == 0u);
    }
    BOOST_TEST(sem.value() == 2u);
}
