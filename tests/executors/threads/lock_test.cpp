#define BOOST_TEST_MODULE lock
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/threads/bunch.hpp"

// Ports of CPython's Lib/test/lock_tests.py BaseLockTests and LockTests for weft::lock.

using namespace std::chrono_literals;
using weft::testing::bunch;
using weft::testing::eventually;
using weft::testing::settle;
using weft::testing::timed;

BOOST_AUTO_TEST_CASE(acquire_then_release_toggles_locked) // test_acquire_release
{
    weft::lock lock;
    BOOST_TEST(!lock.locked());
    BOOST_TEST(lock.acquire());
    BOOST_TEST(lock.locked());
    lock.release();
    BOOST_TEST(!lock.locked());
}

BOOST_AUTO_TEST_CASE(try_acquire_fails_while_another_thread_holds_it) // test_try_acquire_contended
{
    weft::lock lock;
    lock.acquire();
    bool got = true;
    {
        bunch b(1, [&](std::size_t) { got = lock.acquire(false); });
    }
    BOOST_TEST(!got);
    lock.release();
    BOOST_TEST(lock.acquire(false));
    lock.release();
}

BOOST_AUTO_TEST_CASE(blocked_acquirers_all_get_it_once_released) // test_acquire_contended
{
    weft::lock lock;
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
    BOOST_TEST(!lock.locked());
}

BOOST_AUTO_TEST_CASE(guard_releases_on_scope_exit_and_on_exception) // test_with
{
    weft::lock lock;
    {
        auto held = lock.guard();
        BOOST_TEST(held.owns());
        BOOST_TEST(lock.locked());
    }
    BOOST_TEST(!lock.locked());
    try
    {
        auto held = lock.guard();
        throw std::runtime_error("inside with");
    }
    catch (const std::runtime_error&)
    {
    }
    BOOST_TEST(!lock.locked());
    auto held = lock.guard();
    held.release();
    BOOST_TEST(!held.owns());
    BOOST_TEST(!lock.locked());
}

BOOST_AUTO_TEST_CASE(acquire_timeout_rules) // test_timeout
{
    weft::lock lock;
    // A non-blocking call cannot take a timeout (Python's ValueError).
    BOOST_CHECK_THROW(lock.acquire(false, 1s), std::invalid_argument);
    // A timeout beyond what the clock can represent is "forever", not an overflow.
    BOOST_TEST(lock.acquire(std::chrono::hours::max()));
    lock.release();
    // A negative timeout is Python's -1: forever.
    BOOST_TEST(lock.acquire(-1s));
    lock.release();
    // Acquiring a free lock with a timeout does not wait for it.
    bool got = false;
    const auto free_wait = timed([&] { got = lock.acquire(5s); });
    BOOST_TEST(got);
    BOOST_TEST(free_wait < 5s);
    // Held elsewhere: false, after at least the timeout.
    bool got_elsewhere = true;
    std::chrono::steady_clock::duration waited{};
    {
        bunch b(1,
                [&](std::size_t) { waited = timed([&] { got_elsewhere = lock.acquire(200ms); }); });
    }
    BOOST_TEST(!got_elsewhere);
    BOOST_TEST(waited >= 200ms);
    lock.release();
}

BOOST_AUTO_TEST_CASE(holder_reacquiring_blocks_until_another_thread_releases) // test_reacquire
{
    weft::lock lock;
    std::atomic<int> phase{0};
    bunch b(1,
            [&](std::size_t)
            {
                lock.acquire();
                phase = 1;
                lock.acquire(); // not recursive: blocks until the main thread releases it
                phase = 2;
            });
    BOOST_REQUIRE(eventually([&] { return phase.load() == 1; }));
    settle();
    BOOST_TEST(phase.load() == 1);
    lock.release(); // released by a thread that did not acquire it
    BOOST_REQUIRE(eventually([&] { return phase.load() == 2; }));
    BOOST_REQUIRE(b.wait_for_finished());
    lock.release();
}

BOOST_AUTO_TEST_CASE(second_acquire_by_the_holder_times_out)
{
    weft::lock lock;
    lock.acquire();
    BOOST_TEST(!lock.acquire(50ms));
    BOOST_TEST(!lock.acquire(false));
    lock.release();
}

BOOST_AUTO_TEST_CASE(any_thread_may_release_it) // test_different_thread
{
    weft::lock lock;
    {
        bunch b(1, [&](std::size_t) { lock.acquire(); });
    }
    BOOST_TEST(lock.locked());
    lock.release();
    BOOST_TEST(!lock.locked());
}

BOOST_AUTO_TEST_CASE(lock_is_free_after_a_timed_out_acquire) // test_state_after_timeout
{
    weft::lock lock;
    lock.acquire();
    BOOST_TEST(!lock.acquire(10ms));
    lock.release();
    BOOST_TEST(!lock.locked());
    BOOST_TEST(lock.acquire(false));
    lock.release();
}

BOOST_AUTO_TEST_CASE(releasing_an_unlocked_lock_throws_invalid_state)
{
    weft::lock lock;
    try
    {
        lock.release();
        BOOST_FAIL("release of an unlocked lock did not throw");
    }
    catch (const weft::invalid_state_error& e)
    {
        BOOST_TEST(std::string(e.what()).find("release unlocked lock") != std::string::npos);
    }
    lock.acquire();
    lock.release();
    BOOST_CHECK_THROW(lock.release(), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(guard_serialises_a_shared_counter)
{
    weft::lock lock;
    long counter = 0;
    {
        bunch b(4,
                [&](std::size_t)
                {
                    for (int i = 0; i < 10000; ++i)
                    {
                        auto held = lock.guard();
                        ++counter;
                    }
                });
    }
    BOOST_TEST(counter == 40000);
}
