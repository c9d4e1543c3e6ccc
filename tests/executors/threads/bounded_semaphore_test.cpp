#define BOOST_TEST_MODULE bounded_semaphore
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/threads/bunch.hpp"

// Ports of CPython's Lib/test/lock_tests.py BaseSemaphoreTests and BoundedSemaphoreTests.

using namespace std::chrono_literals;
using weft::testing::bunch;
using weft::testing::eventually;
using weft::testing::settle;
using weft::testing::timed;

BOOST_AUTO_TEST_CASE(negative_initial_value_throws_invalid_argument)
{
    BOOST_CHECK_THROW(weft::bounded_semaphore(-1), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(release_past_the_initial_value_throws_invalid_state) // test_release_unacquired
{
    weft::bounded_semaphore sem;
    try
    {
        sem.release();
        BOOST_FAIL("over-release did not throw");
    }
    catch (const weft::invalid_state_error& e)
    {
        BOOST_TEST(std::string(e.what()).find("semaphore released too many times") !=
                   std::string::npos);
    }
    sem.acquire();
    sem.release();
    BOOST_CHECK_THROW(sem.release(), weft::invalid_state_error);
    BOOST_TEST(sem.value() == 1u);
}

BOOST_AUTO_TEST_CASE(release_n_past_the_bound_adds_nothing)
{
    weft::bounded_semaphore sem(3);
    sem.acquire();
    sem.acquire();
    BOOST_CHECK_THROW(sem.release(3), weft::invalid_state_error);
    BOOST_TEST(sem.value() == 1u);
    sem.release(2);
    BOOST_TEST(sem.value() == 3u);
}

BOOST_AUTO_TEST_CASE(the_bound_holds_through_a_semaphore_reference)
{
    weft::bounded_semaphore bounded(1);
    weft::semaphore& sem = bounded;
    BOOST_CHECK_THROW(sem.release(), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(release_n_wakes_blocked_acquirers_within_the_bound) // test_multirelease
{
    weft::bounded_semaphore sem(5);
    for (int i = 0; i < 5; ++i)
    {
        sem.acquire();
    }
    std::atomic<int> through{0};
    bunch b(5,
            [&](std::size_t)
            {
                sem.acquire();
                through.fetch_add(1);
            });
    BOOST_REQUIRE(b.wait_for_started());
    settle();
    BOOST_TEST(through.load() == 0);
    sem.release(3);
    BOOST_REQUIRE(eventually([&] { return through.load() == 3; }));
    sem.release(2);
    BOOST_REQUIRE(b.wait_for_finished());
    BOOST_TEST(sem.value() == 0u);
}

BOOST_AUTO_TEST_CASE(acquire_timeout_returns_false_after_the_timeout) // test_acquire_timeout
{
    weft::bounded_semaphore sem(1);
    BOOST_CHECK_THROW(sem.acquire(false, 1s), std::invalid_argument);
    BOOST_TEST(sem.acquire(5ms));
    bool got = true;
    const auto waited = timed([&] { got = sem.acquire(100ms); });
    BOOST_TEST(!got);
    BOOST_TEST(waited >= 100ms);
}

BOOST_AUTO_TEST_CASE(guard_gives_the_permit_back) // test_with
{
    weft::bounded_semaphore sem(1);
    {
        auto held = sem.guard();
        BOOST_TEST(sem.value() == 0u);
    }
    BOOST_TEST(sem.value() == 1u);
}
