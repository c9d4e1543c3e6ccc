#define BOOST_TEST_MODULE async_mutex
#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/loop_helpers.hpp"
#include "support/run_task.hpp"

using namespace std::chrono_literals;
using weft::async_mutex;
using weft::task;
using weft::testing::run_task;
using weft::testing::spawn;
using weft::testing::under;
using weft::testing::until;

namespace
{

// Takes the mutex, notes how the lock ended, and holds it for one turn of the loop.
task<void> lock_and_record(async_mutex& mutex, std::string& outcome)
{
    outcome = "waiting";
    try
    {
        auto guard = co_await mutex.lock();
        outcome = "locked";
        co_await weft::yield();
    }
    catch (const weft::operation_cancelled&)
    {
        outcome = "cancelled";
    }
    catch (const weft::invalid_state_error&)
    {
        outcome = "invalid_state";
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(lock_of_a_free_mutex_succeeds_and_the_guard_unlocks_it)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            BOOST_TEST(!mutex.locked());
            {
                auto guard = co_await mutex.lock();
                BOOST_TEST(guard.owns_lock());
                BOOST_TEST(guard.mutex() == &mutex);
                BOOST_TEST(mutex.locked());
            }
            BOOST_TEST(!mutex.locked());
        }());
}

BOOST_AUTO_TEST_CASE(try_lock_fails_while_locked_and_succeeds_once_unlocked)
{
    async_mutex mutex;
    BOOST_TEST(mutex.try_lock());
    BOOST_TEST(!mutex.try_lock());
    mutex.unlock();
    BOOST_TEST(mutex.try_lock());
    async_mutex::scoped_lock adopted(mutex, std::adopt_lock);
    BOOST_TEST(adopted.owns_lock());
}

BOOST_AUTO_TEST_CASE(unlock_of_an_unlocked_mutex_throws_invalid_state)
{
    async_mutex mutex;
    BOOST_CHECK_THROW(mutex.unlock(), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(guard_move_transfers_ownership_and_early_unlock_is_checked)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            auto first = co_await mutex.lock();
            async_mutex::scoped_lock second(std::move(first));
            BOOST_TEST(!first.owns_lock());
            BOOST_TEST(second.owns_lock());
            async_mutex::scoped_lock third;
            third = std::move(second);
            BOOST_TEST(third.owns_lock());
            BOOST_TEST(mutex.locked());
            third.unlock();
            BOOST_TEST(!mutex.locked());
            BOOST_CHECK_THROW(third.unlock(), weft::invalid_state_error);
            BOOST_CHECK_THROW(first.unlock(), weft::invalid_state_error);
        }());
}

BOOST_AUTO_TEST_CASE(many_tasks_interleaving_with_yield_never_overlap_in_the_critical_section)
{
    run_task(
        []() -> task<void>
        {
            constexpr int tasks = 20;
            constexpr int rounds = 25;
            async_mutex mutex;
            int inside = 0;
            int most_inside = 0;
            int entered = 0;
            int finished = 0;
            const auto worker = [](async_mutex& m, int& in, int& most, int& count,
                                   int& done) -> task<void>
            {
                for (int r = 0; r < rounds; ++r)
                {
                    {
                        auto guard = co_await m.lock();
                        ++in;
                        most = std::max(most, in);
                        co_await weft::yield();
                        co_await weft::yield();
                        ++count;
                        --in;
                    }
                    co_await weft::yield();
                }
                ++done;
            };
            for (int i = 0; i < tasks; ++i)
            {
                spawn(worker(mutex, inside, most_inside, entered, finished));
            }
            co_await until([&] { return finished == tasks; });
            BOOST_TEST(most_inside == 1);
            BOOST_TEST(entered == tasks * rounds);
            BOOST_TEST(!mutex.locked());
        }());
}

BOOST_AUTO_TEST_CASE(waiters_acquire_in_fifo_order)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            std::vector<int> order;
            int started = 0;
            const auto waiter = [](async_mutex& m, std::vector<int>& out, int& s,
                                   int id) -> task<void>
            {
                ++s;
                auto guard = co_await m.lock();
                out.push_back(id);
                co_await weft::yield();
            };
            auto guard = co_await mutex.lock();
            for (int id = 0; id < 8; ++id)
            {
                spawn(waiter(mutex, order, started, id));
            }
            co_await until([&] { return started == 8; });
            guard.unlock();
            co_await until([&] { return order.size() == 8; });
            BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}),
                       boost::test_tools::per_element());
            co_await until([&] { return !mutex.locked(); });
        }());
}

BOOST_AUTO_TEST_CASE(unlock_hands_ownership_to_the_waiter_so_try_lock_cannot_barge_in)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            std::string outcome;
            auto guard = co_await mutex.lock();
            spawn(lock_and_record(mutex, outcome));
            co_await until([&] { return outcome == "waiting"; });
            guard.unlock();
            BOOST_TEST(mutex.locked());
            BOOST_TEST(!mutex.try_lock());
            co_await until([&] { return outcome == "locked"; });
            co_await until([&] { return !mutex.locked(); });
        }());
}

BOOST_AUTO_TEST_CASE(cancelled_lock_throws_operation_cancelled_and_leaves_the_queue)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            std::stop_source source;
            std::string cancelled;
            std::string after;
            auto guard = co_await mutex.lock();
            spawn(under(source.get_token(), lock_and_record(mutex, cancelled)));
            spawn(lock_and_record(mutex, after));
            co_await until([&] { return cancelled == "waiting" && after == "waiting"; });
            source.request_stop();
            co_await until([&] { return cancelled == "cancelled"; });
            guard.unlock();
            co_await until([&] { return after == "locked"; });
            co_await until([&] { return !mutex.locked(); });
            BOOST_TEST(mutex.try_lock());
            mutex.unlock();
        }());
}

BOOST_AUTO_TEST_CASE(lock_with_timeout_throws_timeout_error_and_the_mutex_still_works)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            {
                auto guard = co_await mutex.lock();
                BOOST_CHECK_THROW(co_await weft::with_timeout(10ms, mutex.lock()),
                                  weft::timeout_error);
                BOOST_TEST(mutex.locked());
            }
            BOOST_TEST(!mutex.locked());
            auto again = co_await weft::with_timeout(1s, mutex.lock());
            BOOST_TEST(again.owns_lock());
        }());
}

BOOST_AUTO_TEST_CASE(lock_by_an_already_cancelled_task_throws_even_when_the_mutex_is_free)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            std::stop_source source;
            source.request_stop();
            std::string outcome;
            co_await under(source.get_token(), lock_and_record(mutex, outcome));
            BOOST_TEST(outcome == "cancelled");
            BOOST_TEST(!mutex.locked());
        }());
}

BOOST_AUTO_TEST_CASE(stop_after_ownership_was_handed_over_keeps_the_lock)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            std::stop_source source;
            std::string outcome;
            auto guard = co_await mutex.lock();
            spawn(under(source.get_token(), lock_and_record(mutex, outcome)));
            co_await until([&] { return outcome == "waiting"; });
            guard.unlock(); // handed over; the waiter has not resumed yet
            source.request_stop();
            co_await until([&] { return outcome != "waiting"; });
            BOOST_TEST(outcome == "locked");
            co_await until([&] { return !mutex.locked(); });
        }());
}

BOOST_AUTO_TEST_CASE(frame_destroyed_after_being_handed_ownership_passes_it_on)
{
    async_mutex mutex; // outlives the loop, whose teardown destroys the waiter's frame
    std::string outcome;
    {
        weft::event_loop loop;
        loop.run(
            [](async_mutex& m, std::string& out) -> task<void>
            {
                BOOST_TEST(m.try_lock());
                spawn(lock_and_record(m, out));
                co_await until([&] { return out == "waiting"; });
                m.unlock(); // handed to the waiter, which never gets to resume
            }(mutex, outcome));
        BOOST_TEST(mutex.locked());
    }
    BOOST_TEST(outcome == "waiting");
    BOOST_TEST(!mutex.locked());
}

BOOST_AUTO_TEST_CASE(waiter_destroyed_while_queued_leaves_the_queue)
{
    async_mutex mutex;
    std::string outcome;
    {
        weft::event_loop loop;
        loop.run(
            [](async_mutex& m, std::string& out) -> task<void>
            {
                BOOST_TEST(m.try_lock());
                spawn(lock_and_record(m, out));
                co_await until([&] { return out == "waiting"; });
            }(mutex, outcome));
    }
    mutex.unlock(); // no waiter left to hand it to
    BOOST_TEST(!mutex.locked());
}

BOOST_AUTO_TEST_CASE(destroying_a_mutex_with_waiters_resumes_them_with_invalid_state)
{
    run_task(
        []() -> task<void>
        {
            std::optional<async_mutex> mutex(std::in_place);
            std::string outcome;
            BOOST_TEST(mutex->try_lock());
            spawn(lock_and_record(*mutex, outcome));
            co_await until([&] { return outcome == "waiting"; });
            mutex.reset();
            co_await until([&] { return outcome != "waiting"; });
            BOOST_TEST(outcome == "invalid_state");
        }());
}
