#define BOOST_TEST_MODULE condition
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <utility>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/threads/bunch.hpp"

// Ports of CPython's Lib/test/lock_tests.py ConditionTests for weft::condition.

using namespace std::chrono_literals;
using weft::testing::bunch;
using weft::testing::eventually;
using weft::testing::settle;
using weft::testing::timed;

namespace
{

bool message_has(const std::exception& e, const std::string& part)
{
    return std::string(e.what()).find(part) != std::string::npos;
}

// Blocks until `n` threads have said they are about to wait and the lock can be taken: a
// thread only gives the lock up by waiting (and is queued before it does), so they all are.
void until_waiting(weft::condition& cond, const std::atomic<int>& ready, int n)
{
    BOOST_REQUIRE(eventually([&] { return ready.load() >= n; }));
    cond.acquire();
    cond.release();
}

} // namespace

BOOST_AUTO_TEST_CASE(wait_without_the_lock_throws_invalid_state) // test_unacquired_wait
{
    weft::condition cond;
    try
    {
        cond.wait(0s);
        BOOST_FAIL("wait without the lock did not throw");
    }
    catch (const weft::invalid_state_error& e)
    {
        BOOST_TEST(message_has(e, "cannot wait on un-acquired lock"));
    }
    weft::lock lock;
    weft::condition over_lock(lock);
    BOOST_CHECK_THROW(over_lock.wait(0s), weft::invalid_state_error);
    BOOST_CHECK_THROW((void)over_lock.wait_for([] { return false; }, 0s),
                      weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(notify_without_the_lock_throws_invalid_state) // test_unacquired_notify
{
    weft::condition cond;
    try
    {
        cond.notify();
        BOOST_FAIL("notify without the lock did not throw");
    }
    catch (const weft::invalid_state_error& e)
    {
        BOOST_TEST(message_has(e, "cannot notify on un-acquired lock"));
    }
    BOOST_CHECK_THROW(cond.notify_all(), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(an_rlock_held_by_another_thread_does_not_count_as_acquired)
{
    weft::rlock lock;
    weft::condition cond(lock);
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
    BOOST_CHECK_THROW(cond.notify(), weft::invalid_state_error);
    BOOST_CHECK_THROW(cond.wait(0s), weft::invalid_state_error);
    may_leave = true;
}

BOOST_AUTO_TEST_CASE(wait_timeout_returns_false_with_the_lock_held_again) // test_timeout
{
    weft::condition cond;
    constexpr std::size_t n = 5;
    std::mutex results_mutex;
    std::vector<std::pair<std::chrono::steady_clock::duration, bool>> results;
    std::atomic<int> owned_after{0};
    {
        bunch b(n,
                [&](std::size_t)
                {
                    auto held = cond.guard();
                    bool result = true;
                    const auto waited = timed([&] { result = cond.wait(200ms); });
                    // The lock is ours again: notify() must not throw.
                    cond.notify(0);
                    owned_after.fetch_add(1);
                    std::lock_guard<std::mutex> record(results_mutex);
                    results.emplace_back(waited, result);
                });
    }
    BOOST_TEST(results.size() == n);
    BOOST_TEST(owned_after.load() == static_cast<int>(n));
    for (const auto& [waited, result] : results)
    {
        BOOST_TEST(!result);
        BOOST_TEST((waited >= 200ms));
    }
}

BOOST_AUTO_TEST_CASE(notify_n_wakes_exactly_n_waiters_oldest_first) // test_notify
{
    weft::condition cond;
    constexpr int n = 5;
    std::mutex results_mutex;
    std::vector<int> results1;
    std::vector<int> results2;
    std::atomic<int> ready1{0};
    std::atomic<int> ready2{0};
    // Each waiter records the phase it saw on waking, or -1 if its wait() returned false.
    int phase = 0; // written under the condition's lock
    const auto count = [&](const std::vector<int>& results)
    {
        std::lock_guard<std::mutex> held(results_mutex);
        return results.size();
    };
    const auto copy = [&](const std::vector<int>& results)
    {
        std::lock_guard<std::mutex> held(results_mutex);
        return results;
    };
    bunch b(n,
            [&](std::size_t)
            {
                cond.acquire();
                ready1.fetch_add(1);
                bool result = cond.wait(weft::testing::hang_limit);
                int seen = phase;
                cond.release();
                {
                    std::lock_guard<std::mutex> held(results_mutex);
                    results1.push_back(result ? seen : -1);
                }
                cond.acquire();
                ready2.fetch_add(1);
                result = cond.wait(weft::testing::hang_limit);
                seen = phase;
                cond.release();
                std::lock_guard<std::mutex> held(results_mutex);
                results2.push_back(result ? seen : -1);
            });
    until_waiting(cond, ready1, n);
    BOOST_TEST(count(results1) == 0u);

    // notify(2) wakes two of the five, and only two.
    cond.acquire();
    cond.notify(2);
    phase = 1;
    cond.release();
    BOOST_REQUIRE(eventually([&] { return count(results1) == 2; }));
    settle();
    BOOST_TEST(count(results1) == 2u);
    BOOST_TEST(copy(results1) == (std::vector<int>(2, 1)), boost::test_tools::per_element());
    BOOST_TEST(count(results2) == 0u);

    // The two are back in their second wait, behind the three still in their first: notify(5)
    // wakes all five, oldest first.
    until_waiting(cond, ready2, 2);
    cond.acquire();
    cond.notify(5);
    phase = 2;
    cond.release();
    BOOST_REQUIRE(eventually([&] { return count(results1) + count(results2) == 7; }));
    settle();
    BOOST_TEST(count(results1) + count(results2) == 7u);
    auto expected1 = std::vector<int>(2, 1);
    expected1.insert(expected1.end(), 3, 2);
    BOOST_TEST(copy(results1) == expected1, boost::test_tools::per_element());
    BOOST_TEST(copy(results2) == (std::vector<int>(2, 2)), boost::test_tools::per_element());

    // The last three are in their second wait: notify_all() wakes them.
    until_waiting(cond, ready2, n);
    cond.acquire();
    cond.notify_all();
    phase = 3;
    cond.release();
    BOOST_REQUIRE(b.wait_for_finished());
    auto expected2 = std::vector<int>(2, 2);
    expected2.insert(expected2.end(), 3, 3);
    BOOST_TEST(copy(results2) == expected2, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(wait_for_returns_once_the_predicate_holds) // test_waitfor
{
    weft::condition cond;
    int state = 0; // under the condition's lock
    std::atomic<bool> result{false};
    std::atomic<int> seen{-1};
    bunch b(1,
            [&](std::size_t)
            {
                auto held = cond.guard();
                result = cond.wait_for([&] { return state == 4; }, weft::testing::hang_limit);
                seen = state;
            });
    BOOST_REQUIRE(b.wait_for_started());
    for (int i = 0; i < 4; ++i)
    {
        std::this_thread::sleep_for(10ms);
        auto held = cond.guard();
        ++state;
        cond.notify();
    }
    BOOST_REQUIRE(b.wait_for_finished());
    BOOST_TEST(result.load());
    BOOST_TEST(seen.load() == 4);
}

BOOST_AUTO_TEST_CASE(wait_for_times_out_with_the_predicates_last_value) // test_waitfor_timeout
{
    weft::condition cond;
    int state = 0;
    std::atomic<bool> result{true};
    std::chrono::steady_clock::duration waited{};
    {
        bunch b(1,
                [&](std::size_t)
                {
                    auto held = cond.guard();
                    waited =
                        timed([&] { result = cond.wait_for([&] { return state == 4; }, 300ms); });
                });
        BOOST_REQUIRE(b.wait_for_started());
        for (int i = 0; i < 3; ++i)
        {
            std::this_thread::sleep_for(10ms);
            auto held = cond.guard();
            ++state;
            cond.notify();
        }
    }
    BOOST_TEST(!result.load());
    BOOST_TEST((waited >= 300ms));

    // The value, not a bool: Python returns whatever the predicate last returned.
    auto held = cond.guard();
    int counter = 0;
    BOOST_TEST(cond.wait_for([&] { return counter; }, 10ms) == 0);
    counter = 7;
    BOOST_TEST(cond.wait_for([&] { return counter; }, 10ms) == 7);
}

BOOST_AUTO_TEST_CASE(wait_releases_an_rlock_fully_and_restores_its_count)
{
    weft::rlock lock;
    weft::condition cond(lock);
    lock.acquire();
    lock.acquire();
    lock.acquire();
    std::atomic<bool> other_got_it{false};
    bunch b(1,
            [&](std::size_t)
            {
                // Possible only while the main thread waits, its three levels all released.
                auto held = cond.guard();
                other_got_it = true;
                cond.notify();
            });
    BOOST_TEST(cond.wait(weft::testing::hang_limit));
    BOOST_TEST(other_got_it.load());
    BOOST_TEST(lock.recursion_count() == 3u);
    lock.release();
    lock.release();
    lock.release();
    BOOST_TEST(!lock.locked());
}

BOOST_AUTO_TEST_CASE(a_condition_over_a_plain_lock_waits_and_notifies)
{
    weft::lock lock;
    weft::condition cond(lock);
    bool ready = false; // under `lock`
    std::atomic<bool> result{false};
    bunch b(1,
            [&](std::size_t)
            {
                auto held = cond.guard();
                result = cond.wait_for([&] { return ready; }, weft::testing::hang_limit);
            });
    BOOST_REQUIRE(b.wait_for_started());
    {
        auto held = lock.guard();
        ready = true;
        cond.notify_all();
    }
    BOOST_REQUIRE(b.wait_for_finished());
    BOOST_TEST(result.load());
    BOOST_TEST(!lock.locked());
}

BOOST_AUTO_TEST_CASE(a_timed_out_waiter_does_not_consume_a_notification)
{
    weft::condition cond;
    std::atomic<int> ready{0};
    std::atomic<bool> patient_result{false};
    std::atomic<bool> hasty_result{true};
    bunch patient(1,
                  [&](std::size_t)
                  {
                      auto held = cond.guard();
                      ready.fetch_add(1);
                      patient_result = cond.wait(weft::testing::hang_limit);
                  });
    until_waiting(cond, ready, 1);
    {
        auto held = cond.guard();
        hasty_result = cond.wait(10ms);
        cond.notify(1);
    }
    BOOST_REQUIRE(patient.wait_for_finished());
    BOOST_TEST(!hasty_result.load());
    BOOST_TEST(patient_result.load());
}

BOOST_AUTO_TEST_CASE(std_unique_lock_over_a_condition_is_pythons_with)
{
    weft::condition cond;
    {
        std::unique_lock<weft::condition> held(cond);
        cond.notify_all(); // holds the lock, so no error
    }
    BOOST_CHECK_THROW(cond.notify_all(), weft::invalid_state_error);
}
