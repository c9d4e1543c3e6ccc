#define BOOST_TEST_MODULE rlock
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/threads/bunch.hpp"

// Ports of CPython's Lib/test/lock_tests.py BaseLockTests and RLockTests for weft::rlock.

using namespace std::chrono_literals;
using weft::testing::bunch;
using weft::testing::eventually;
using weft::testing::settle;
using weft::testing::timed;

BOOST_AUTO_TEST_CASE(acquire_then_release_toggles_locked) // test_acquire_release
{
    weft::rlock lock;
    BOOST_TEST(!lock.locked());
    BOOST_TEST(lock.acquire());
    BOOST_TEST(lock.locked());
    BOOST_TEST(lock.is_owned());
    lock.release();
    BOOST_TEST(!lock.locked());
    BOOST_TEST(!lock.is_owned());
}

BOOST_AUTO_TEST_CASE(try_acquire_fails_while_another_thread_holds_it) // test_try_acquire_contended
{
    weft::rlock lock;
    lock.acquire();
    bool got = true;
    {
        bunch b(1, [&](std::size_t) { got = lock.acquire(false); });
    }
    BOOST_TEST(!got);
    lock.release();
}

BOOST_AUTO_TEST_CASE(blocked_acquirers_all_get_it_once_released) // test_acquire_contended
{
    weft::rlock lock;
    lock.acquire();
    constexpr std::size_t n = 5;
    std::atomic<std::size_t> through{0};
    bunch b(n,
            [&](std::size_t)
            {
                lock.acquire();
                lock.release();
                through.fetch_add(1);
            });
    BOOST_REQUIRE(b.wait_for_started());
    settle();
    BOOST_TEST(through.load() == 0u);
    lock.release();
    BOOST_REQUIRE(b.wait_for_finished());
    BOOST_TEST(through.load() == n);
}

BOOST_AUTO_TEST_CASE(std_lock_guard_and_guard_release_on_scope_exit) // test_with
{
    weft::rlock lock;
    {
        std::lock_guard<weft::rlock> held(lock);
        BOOST_TEST(lock.is_owned());
        auto again = lock.guard(); // re-entry
        BOOST_TEST(lock.recursion_count() == 2u);
    }
    BOOST_TEST(!lock.locked());
    try
    {
        std::unique_lock<weft::rlock> held(lock);
        throw std::runtime_error("inside with");
    }
    catch (const std::runtime_error&)
    {
    }
    BOOST_TEST(!lock.locked());
}

BOOST_AUTO_TEST_CASE(acquire_timeout_rules) // test_timeout
{
    weft::rlock lock;
    BOOST_CHECK_THROW(lock.acquire(false, 1s), std::invalid_argument);
    BOOST_TEST(lock.acquire(std::chrono::hours::max()));
    lock.release();
    bool got_elsewhere = true;
    std::chrono::steady_clock::duration waited{};
    lock.acquire();
    {
        bunch b(1,
                [&](std::size_t) { waited = timed([&] { got_elsewhere = lock.acquire(200ms); }); });
    }
    BOOST_TEST(!got_elsewhere);
    BOOST_TEST(waited >= 200ms);
    std::unique_lock<weft::rlock> timed_out(lock, std::defer_lock);
    BOOST_TEST(timed_out.try_lock_for(10ms)); // the owner re-enters at once
    timed_out.unlock();
    lock.release();
}

BOOST_AUTO_TEST_CASE(owner_reacquires_without_blocking)
{
    weft::rlock lock;
    BOOST_TEST(lock.acquire());
    BOOST_TEST(lock.acquire(false));
    BOOST_TEST(lock.acquire(0s));
    BOOST_TEST(lock.recursion_count() == 3u);
    lock.release();
    lock.release();
    lock.release();
    BOOST_TEST(!lock.locked());
}

BOOST_AUTO_TEST_CASE(releasing_more_times_than_acquired_throws) // test_release_unacquired
{
    weft::rlock lock;
    try
    {
        lock.release();
        BOOST_FAIL("release of an unacquired rlock did not throw");
    }
    catch (const weft::invalid_state_error& e)
    {
        BOOST_TEST(std::string(e.what()).find("cannot release un-acquired lock") !=
                   std::string::npos);
    }
    lock.acquire();
    lock.acquire();
    lock.release();
    lock.acquire();
    lock.release();
    lock.release();
    BOOST_CHECK_THROW(lock.release(), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(recursion_count_counts_only_the_owners_levels) // test_recursion_count
{
    weft::rlock lock;
    BOOST_TEST(lock.recursion_count() == 0u);
    lock.acquire();
    BOOST_TEST(lock.recursion_count() == 1u);
    lock.acquire();
    lock.acquire();
    BOOST_TEST(lock.recursion_count() == 3u);
    lock.release();
    BOOST_TEST(lock.recursion_count() == 2u);
    lock.release();
    lock.release();
    BOOST_TEST(lock.recursion_count() == 0u);

    // Held by another thread: 0 for us, and the holder's count is untouched.
    std::atomic<bool> holding{false};
    std::atomic<bool> may_leave{false};
    std::size_t holder_count = 0;
    {
        bunch b(1,
                [&](std::size_t)
                {
                    lock.acquire();
                    lock.acquire();
                    holding = true;
                    (void)eventually([&] { return may_leave.load(); });
                    holder_count = lock.recursion_count();
                    lock.release();
                    lock.release();
                });
        BOOST_REQUIRE(eventually([&] { return holding.load(); }));
        BOOST_TEST(lock.recursion_count() == 0u);
        BOOST_TEST(lock.locked());
        BOOST_TEST(!lock.is_owned());
        may_leave = true;
    }
    BOOST_TEST(holder_count == 2u);
    BOOST_TEST(!lock.locked());
}

BOOST_AUTO_TEST_CASE(release_by_a_non_owner_throws_and_leaves_it_held) // test_different_thread
{
    weft::rlock lock;
    std::atomic<bool> holding{false};
    std::atomic<bool> may_leave{false};
    bunch b(1,
            [&](std::size_t)
            {
                lock.acquire();
                holding = true;
                (void)eventually([&] { return may_leave.load(); });
                lock.release();
            });
    BOOST_REQUIRE(eventually([&] { return holding.load(); }));
    BOOST_CHECK_THROW(lock.release(), weft::invalid_state_error);
    BOOST_TEST(lock.locked());
    BOOST_TEST(!lock.acquire(false));
    may_leave = true;
    BOOST_REQUIRE(b.wait_for_finished());
    BOOST_TEST(!lock.locked());
}
