// interprocess::rlock: Python's multiprocessing.RLock. Recursion by its holder while other
// processes are kept out (every start method), recursion_count/is_owned, release by a non-owner,
// a holder killed holding it (the next acquirer is told), Lockable/TimedLockable use with the
// standard lock types, and passing it to pool tasks.
#define BOOST_TEST_MODULE interprocess_rlock
#define BOOST_TEST_NO_MAIN
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../processes/pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::shared_value;
using weft::start_method;
using weft::interprocess::event;
using weft::interprocess::rlock;
using weft::test::all_methods;
using weft::test::patience;

namespace
{

// Tries to take the lock for `timeout_ms`; reports 1 (got it, released again) or 0.
void try_take(rlock l, shared_value<int> got, int timeout_ms)
{
    const bool acquired = static_cast<bool>(l.acquire(std::chrono::milliseconds(timeout_ms)));
    got.set(acquired ? 1 : 0);
    if (acquired)
    {
        l.release();
    }
}

// What a process that does not hold the lock sees: is_owned, recursion_count, and whether its
// release throws invalid_state_error (1) or not (0).
void look_from_outside(rlock l, shared_value<int> owned, shared_value<int> count,
                       shared_value<int> release_threw)
{
    owned.set(l.is_owned() ? 1 : 0);
    count.set(static_cast<int>(l.recursion_count()));
    try
    {
        l.release();
        release_threw.set(0);
    }
    catch (const weft::invalid_state_error&)
    {
        release_threw.set(1);
    }
}

void hold_twice_and_hang(rlock l, event holding)
{
    (void)l.acquire();
    (void)l.acquire();
    holding.set();
    std::this_thread::sleep_for(60s);
}

// A pool task: takes the lock two levels deep, increments, returns the depth it saw.
int add_two_levels_deep(rlock l, shared_value<std::int64_t> counter)
{
    std::lock_guard<rlock> outer(l);
    std::unique_lock<rlock> inner(l);
    const int depth = static_cast<int>(l.recursion_count());
    const std::int64_t seen = counter.raw();
    counter.raw() = seen + 1; // a lost update shows if the lock does not exclude
    return depth;
}

bool try_take_in_task(rlock l)
{
    const bool acquired = static_cast<bool>(l.acquire(50ms));
    if (acquired)
    {
        l.release();
    }
    return acquired;
}

// try_lock_until a time already passed: must try once, not wait forever.
void try_lock_until_the_past(rlock l, shared_value<int> result)
{
    result.set(l.try_lock_until(std::chrono::steady_clock::now() - 1s) ? 1 : 0);
    result.set(result.get() + (l.try_lock_for(-5ms) ? 10 : 0));
}

} // namespace

BOOST_AUTO_TEST_CASE(a_child_cannot_take_it_while_the_parent_holds_it_three_levels_deep)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT("start method " << static_cast<int>(method))
        {
            rlock l;
            for (int i = 0; i < 3; ++i)
            {
                const auto got = l.acquire(0s);
                BOOST_REQUIRE(static_cast<bool>(got));
                BOOST_TEST(!got.owner_died());
            }
            BOOST_TEST(l.recursion_count() == 3U);
            shared_value<int> got(-1);
            {
                weft::process child({.start_method = method}, try_take, l, got, 100);
                child.start();
                BOOST_REQUIRE(child.join(patience));
                BOOST_TEST(child.exitcode().value_or(-99) == 0);
                BOOST_TEST(got.get() == 0); // three levels deep: kept out
            }
            l.release();
            l.release();
            BOOST_TEST(l.recursion_count() == 1U);
            BOOST_TEST(l.locked()); // one level left: still held
            {
                got.set(-1);
                weft::process child({.start_method = method}, try_take, l, got, 100);
                child.start();
                BOOST_REQUIRE(child.join(patience));
                BOOST_TEST(got.get() == 0);
            }
            l.release();
            BOOST_TEST(!l.locked());
            BOOST_TEST(l.recursion_count() == 0U);
            {
                got.set(-1);
                weft::process child({.start_method = method}, try_take, l, got,
                                    static_cast<int>(std::chrono::milliseconds(patience).count()));
                child.start();
                BOOST_REQUIRE(child.join(patience));
                BOOST_TEST(got.get() == 1); // free once released as many times
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(recursion_count_and_is_owned_belong_to_the_holding_thread)
{
    rlock l;
    BOOST_TEST(!l.is_owned());
    BOOST_TEST(l.recursion_count() == 0U);
    (void)l.acquire();
    BOOST_TEST(l.is_owned());
    BOOST_TEST(l.recursion_count() == 1U);
    (void)l.acquire();
    BOOST_TEST(l.recursion_count() == 2U);
    bool other_owned = true;
    std::size_t other_count = 99;
    std::thread other(
        [&]
        {
            other_owned = l.is_owned();
            other_count = l.recursion_count();
        });
    other.join();
    BOOST_TEST(!other_owned);
    BOOST_TEST(other_count == 0U);

    shared_value<int> owned(-1);
    shared_value<int> count(-1);
    shared_value<int> release_threw(-1);
    weft::process child({.start_method = start_method::forkserver}, look_from_outside, l, owned,
                        count, release_threw);
    child.start();
    BOOST_REQUIRE(child.join(patience));
    BOOST_TEST(owned.get() == 0);
    BOOST_TEST(count.get() == 0);
    BOOST_TEST(release_threw.get() == 1);
    BOOST_TEST(l.recursion_count() == 2U); // the child's release took nothing
    l.release();
    l.release();
    BOOST_TEST(!l.is_owned());
}

BOOST_AUTO_TEST_CASE(release_by_a_non_owner_throws)
{
    rlock l;
    BOOST_CHECK_THROW(l.release(), weft::invalid_state_error); // never acquired
    (void)l.acquire();
    std::thread other([&] { BOOST_CHECK_THROW(l.release(), weft::invalid_state_error); });
    other.join();
    BOOST_TEST(l.is_owned());
    l.release();
    BOOST_CHECK_THROW(l.release(), weft::invalid_state_error); // released too many times
    BOOST_CHECK_THROW((void)l.acquire(false, 1s), std::invalid_argument);
    BOOST_TEST(!l.locked());
}

BOOST_AUTO_TEST_CASE(a_holder_killed_holding_it_is_reported_as_owner_died)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT("start method " << static_cast<int>(method))
        {
            rlock l;
            event holding;
            weft::process child({.start_method = method}, hold_twice_and_hang, l, holding);
            child.start();
            BOOST_REQUIRE(holding.wait(patience));
            BOOST_TEST(l.locked());
            BOOST_TEST(!l.acquire(50ms)); // really held by the child
            child.kill();
            BOOST_REQUIRE(child.join(patience));
            const weft::interprocess::acquired got = l.acquire(patience);
            BOOST_TEST(static_cast<bool>(got));
            BOOST_TEST(got.owner_died());
            BOOST_TEST(l.recursion_count() == 1U); // the dead holder's two levels are gone
            l.release();
            BOOST_TEST(!l.locked());
            const auto again = l.acquire(0s);
            BOOST_TEST(static_cast<bool>(again));
            BOOST_TEST(!again.owner_died());
            l.release();
        }
    }
}

BOOST_AUTO_TEST_CASE(lockable_with_the_standard_lock_types)
{
    rlock l;
    {
        std::unique_lock<rlock> outer(l);
        BOOST_TEST(outer.owns_lock());
        {
            std::lock_guard<rlock> inner(l); // recursive
            BOOST_TEST(l.recursion_count() == 2U);
        }
        BOOST_TEST(l.recursion_count() == 1U);
        std::thread other(
            [&]
            {
                std::unique_lock<rlock> tried(l, std::try_to_lock);
                BOOST_TEST(!tried.owns_lock());
                const auto start = std::chrono::steady_clock::now();
                std::unique_lock<rlock> timed(l, 50ms);
                BOOST_TEST(!timed.owns_lock());
                BOOST_TEST((std::chrono::steady_clock::now() - start >= 50ms));
            });
        other.join();
        outer.unlock();
        BOOST_TEST(!l.locked());
    }
    {
        std::scoped_lock both(l);
        BOOST_TEST(l.is_owned());
    }
    BOOST_TEST(!l.locked());

    // TimedLockable with a deadline already passed tries once (here: while another process
    // holds it, so it must fail promptly rather than wait).
    (void)l.acquire();
    shared_value<int> result(-1);
    weft::process child({.start_method = start_method::fork}, try_lock_until_the_past, l, result);
    child.start();
    const bool finished = child.join(5s);
    if (!finished)
    {
        child.kill();
        BOOST_REQUIRE(child.join(patience));
    }
    BOOST_TEST(finished);
    BOOST_TEST(result.get() == 0);
    l.release();
    BOOST_TEST(l.try_lock_until(std::chrono::steady_clock::now() - 1s)); // free: tried once
    l.unlock();
}

BOOST_AUTO_TEST_CASE(passes_to_pool_tasks)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT("start method " << static_cast<int>(method))
        {
            rlock l;
            shared_value<std::int64_t> counter(0, {.lock = false});
            weft::process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::vector<weft::future<int>> depths;
            for (int i = 0; i < 200; ++i)
            {
                depths.push_back(pool.submit(add_two_levels_deep, l, counter));
            }
            for (auto& depth : depths)
            {
                BOOST_TEST(depth.result(patience) == 2);
            }
            BOOST_TEST(counter.raw() == 200);
            // held here, a task in a worker cannot take it
            (void)l.acquire();
            BOOST_TEST(!pool.submit(try_take_in_task, l).result(patience));
            l.release();
            BOOST_TEST(pool.submit(try_take_in_task, l).result(patience));
        }
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
