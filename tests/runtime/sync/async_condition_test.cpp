#define BOOST_TEST_MODULE async_condition
#include <algorithm>
#include <chrono>
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
using weft::async_condition;
using weft::async_mutex;
using weft::task;
using weft::testing::run_task;
using weft::testing::spawn;
using weft::testing::under;
using weft::testing::until;

namespace
{

struct wait_report
{
    std::string outcome;
    bool owned_after = false; // the guard owned the locked mutex when the wait ended
};

// Locks, waits once, records how the wait ended, and keeps the mutex for one more turn.
task<void> wait_and_record(async_mutex& mutex, async_condition& condition, wait_report& report)
{
    auto guard = co_await mutex.lock();
    report.outcome = "waiting";
    try
    {
        co_await condition.wait(guard);
        report.outcome = "notified";
    }
    catch (const weft::operation_cancelled&)
    {
        report.outcome = "cancelled";
    }
    catch (const weft::invalid_state_error&)
    {
        report.outcome = "invalid_state";
    }
    report.owned_after = guard.owns_lock() && mutex.locked();
    co_await weft::yield();
}

} // namespace

BOOST_AUTO_TEST_CASE(wait_releases_the_mutex_and_owns_it_again_when_it_returns)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            async_condition condition(mutex);
            BOOST_TEST(&condition.mutex() == &mutex);
            wait_report report;
            spawn(wait_and_record(mutex, condition, report));
            co_await until([&] { return report.outcome == "waiting"; });
            BOOST_TEST(!mutex.locked());
            {
                auto guard = co_await mutex.lock();
                condition.notify();
                co_await weft::yield();
                co_await weft::yield();
                // Notified, but the notifier still holds the mutex.
                BOOST_TEST(report.outcome == "waiting");
            }
            co_await until([&] { return report.outcome == "notified"; });
            BOOST_TEST(report.owned_after);
            co_await until([&] { return !mutex.locked(); });
        }());
}

BOOST_AUTO_TEST_CASE(wait_with_predicate_returns_once_the_predicate_holds)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            async_condition condition(mutex);
            int value = 0;
            bool done = false;
            const auto consumer = [](async_condition& c, int& v, bool& d) -> task<void>
            {
                auto guard = co_await c.mutex().lock();
                co_await c.wait(guard, [&] { return v >= 3; });
                BOOST_TEST(guard.owns_lock());
                BOOST_TEST(v == 3);
                d = true;
            };
            spawn(consumer(condition, value, done));
            for (int i = 0; i < 3; ++i)
            {
                co_await weft::yield();
                auto guard = co_await mutex.lock();
                ++value;
                condition.notify_all();
            }
            co_await until([&] { return done; });
        }());
}

BOOST_AUTO_TEST_CASE(wait_with_a_predicate_already_true_does_not_release_the_mutex)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            async_condition condition(mutex);
            auto guard = co_await mutex.lock();
            co_await condition.wait(guard, [] { return true; });
            BOOST_TEST(guard.owns_lock());
            BOOST_TEST(mutex.locked());
        }());
}

BOOST_AUTO_TEST_CASE(notify_wakes_waiters_oldest_first_and_notify_all_wakes_the_rest)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            async_condition condition(mutex);
            std::vector<wait_report> reports(5);
            for (auto& report : reports)
            {
                spawn(wait_and_record(mutex, condition, report));
            }
            co_await until(
                [&]
                {
                    for (const auto& r : reports)
                    {
                        if (r.outcome != "waiting")
                        {
                            return false;
                        }
                    }
                    return !mutex.locked();
                });
            const auto notified = [&]
            {
                int n = 0;
                for (const auto& r : reports)
                {
                    n += r.outcome == "notified" ? 1 : 0;
                }
                return n;
            };
            {
                auto guard = co_await mutex.lock();
                condition.notify();
            }
            co_await until([&] { return notified() == 1; });
            BOOST_TEST(reports[0].outcome == "notified");
            {
                auto guard = co_await mutex.lock();
                condition.notify(2);
            }
            co_await until([&] { return notified() == 3; });
            BOOST_TEST(reports[1].outcome == "notified");
            BOOST_TEST(reports[2].outcome == "notified");
            for (int i = 0; i < 5; ++i)
            {
                co_await weft::yield();
            }
            BOOST_TEST(notified() == 3);
            {
                auto guard = co_await mutex.lock();
                condition.notify_all();
            }
            co_await until([&] { return notified() == 5; });
            for (const auto& r : reports)
            {
                BOOST_TEST(r.owned_after);
            }
            co_await until([&] { return !mutex.locked(); });
        }());
}

BOOST_AUTO_TEST_CASE(notify_without_the_mutex_locked_throws_invalid_state)
{
    async_mutex mutex;
    async_condition condition(mutex);
    BOOST_CHECK_THROW(condition.notify(), weft::invalid_state_error);
    BOOST_CHECK_THROW(condition.notify_all(), weft::invalid_state_error);
    BOOST_TEST(mutex.try_lock());
    condition.notify(); // nobody waits: a no-op
    mutex.unlock();
}

BOOST_AUTO_TEST_CASE(wait_with_a_guard_that_does_not_own_the_mutex_throws_invalid_state)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            async_mutex other;
            async_condition condition(mutex);
            auto foreign = co_await other.lock();
            BOOST_CHECK_THROW(co_await condition.wait(foreign), weft::invalid_state_error);
            async_mutex::scoped_lock empty;
            BOOST_CHECK_THROW(co_await condition.wait(empty), weft::invalid_state_error);
            BOOST_TEST(foreign.owns_lock());
        }());
}

BOOST_AUTO_TEST_CASE(cancelled_wait_owns_the_mutex_when_it_throws_and_takes_no_notification)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            async_condition condition(mutex);
            std::stop_source source;
            wait_report cancelled;
            wait_report other;
            spawn(under(source.get_token(), wait_and_record(mutex, condition, cancelled)));
            spawn(wait_and_record(mutex, condition, other));
            co_await until(
                [&] { return cancelled.outcome == "waiting" && other.outcome == "waiting"; });
            co_await until([&] { return !mutex.locked(); });
            source.request_stop();
            co_await until([&] { return cancelled.outcome == "cancelled"; });
            BOOST_TEST(cancelled.owned_after);
            co_await until([&] { return !mutex.locked(); });
            {
                auto guard = co_await mutex.lock();
                condition.notify();
            }
            co_await until([&] { return other.outcome == "notified"; });
            BOOST_TEST(other.owned_after);
            co_await until([&] { return !mutex.locked(); });
        }());
}

BOOST_AUTO_TEST_CASE(cancelled_wait_does_not_return_before_the_holder_unlocks)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            async_condition condition(mutex);
            std::stop_source source;
            wait_report report;
            spawn(under(source.get_token(), wait_and_record(mutex, condition, report)));
            co_await until([&] { return report.outcome == "waiting"; });
            {
                auto guard = co_await mutex.lock();
                source.request_stop();
                for (int i = 0; i < 5; ++i)
                {
                    co_await weft::yield();
                }
                BOOST_TEST(report.outcome == "waiting");
            }
            co_await until([&] { return report.outcome == "cancelled"; });
            BOOST_TEST(report.owned_after);
            co_await until([&] { return !mutex.locked(); });
        }());
}

BOOST_AUTO_TEST_CASE(wait_with_timeout_throws_timeout_error_still_owning_the_mutex)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            async_condition condition(mutex);
            auto guard = co_await mutex.lock();
            BOOST_CHECK_THROW(co_await weft::with_timeout(10ms, condition.wait(guard)),
                              weft::timeout_error);
            BOOST_TEST(guard.owns_lock());
            BOOST_TEST(mutex.locked());
            BOOST_CHECK_THROW(
                co_await weft::with_timeout(10ms, condition.wait(guard, [] { return false; })),
                weft::timeout_error);
            BOOST_TEST(guard.owns_lock());
            BOOST_TEST(mutex.locked());
        }());
}

BOOST_AUTO_TEST_CASE(condition_still_works_after_a_timed_out_wait)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            async_condition condition(mutex);
            {
                auto guard = co_await mutex.lock();
                BOOST_CHECK_THROW(co_await weft::with_timeout(5ms, condition.wait(guard)),
                                  weft::timeout_error);
            }
            wait_report report;
            spawn(wait_and_record(mutex, condition, report));
            co_await until([&] { return report.outcome == "waiting" && !mutex.locked(); });
            {
                auto guard = co_await mutex.lock();
                condition.notify();
            }
            co_await until([&] { return report.outcome == "notified"; });
            co_await until([&] { return !mutex.locked(); });
        }());
}

BOOST_AUTO_TEST_CASE(destroying_a_condition_with_waiters_makes_them_reacquire_and_throw)
{
    run_task(
        []() -> task<void>
        {
            async_mutex mutex;
            std::optional<async_condition> condition(std::in_place, mutex);
            wait_report report;
            spawn(wait_and_record(mutex, *condition, report));
            co_await until([&] { return report.outcome == "waiting"; });
            condition.reset();
            co_await until([&] { return report.outcome != "waiting"; });
            BOOST_TEST(report.outcome == "invalid_state");
            BOOST_TEST(report.owned_after);
            co_await until([&] { return !mutex.locked(); });
        }());
}

BOOST_AUTO_TEST_CASE(frame_destroyed_after_being_notified_passes_the_mutex_on)
{
    async_mutex mutex; // outlives the loop, whose teardown destroys the waiter
    async_condition condition(mutex);
    wait_report report;
    {
        weft::event_loop loop;
        loop.run(
            [](async_mutex& m, async_condition& c, wait_report& r) -> task<void>
            {
                spawn(wait_and_record(m, c, r));
                co_await until([&] { return r.outcome == "waiting"; });
                BOOST_TEST(m.try_lock());
                c.notify();
                m.unlock(); // hands the mutex to the waiter, which never gets to resume
            }(mutex, condition, report));
        BOOST_TEST(mutex.locked());
    }
    BOOST_TEST(report.outcome == "waiting");
    BOOST_TEST(!mutex.locked());
}

BOOST_AUTO_TEST_CASE(waiter_destroyed_before_notification_leaves_mutex_and_condition_usable)
{
    async_mutex mutex;
    async_condition condition(mutex);
    wait_report report;
    {
        weft::event_loop loop;
        loop.run(
            [](async_mutex& m, async_condition& c, wait_report& r) -> task<void>
            {
                spawn(wait_and_record(m, c, r));
                co_await until([&] { return r.outcome == "waiting"; });
            }(mutex, condition, report));
    }
    BOOST_TEST(!mutex.locked()); // the destroyed guard did not unlock it a second time
    BOOST_TEST(mutex.try_lock());
    condition.notify(); // nobody left to wake
    mutex.unlock();
}

BOOST_AUTO_TEST_CASE(bounded_buffer_of_many_tasks_delivers_every_item_once)
{
    run_task(
        []() -> task<void>
        {
            constexpr int producers = 4;
            constexpr int consumers = 4;
            constexpr int per_producer = 50;
            async_mutex mutex;
            async_condition condition(mutex);
            std::vector<int> buffer;
            std::vector<int> received;
            int producers_done = 0;
            int consumers_done = 0;
            const auto producer = [](async_condition& c, std::vector<int>& buf, int& done,
                                     int id) -> task<void>
            {
                for (int i = 0; i < per_producer; ++i)
                {
                    auto guard = co_await c.mutex().lock();
                    co_await c.wait(guard, [&] { return buf.size() < 3; });
                    buf.push_back(id * 1000 + i);
                    c.notify_all();
                }
                ++done;
            };
            const auto consumer = [](async_condition& c, std::vector<int>& buf,
                                     std::vector<int>& out, int& done) -> task<void>
            {
                for (int i = 0; i < producers * per_producer / consumers; ++i)
                {
                    auto guard = co_await c.mutex().lock();
                    co_await c.wait(guard, [&] { return !buf.empty(); });
                    out.push_back(buf.front());
                    buf.erase(buf.begin());
                    c.notify_all();
                    guard.unlock();
                    co_await weft::yield();
                }
                ++done;
            };
            for (int id = 0; id < producers; ++id)
            {
                spawn(producer(condition, buffer, producers_done, id));
            }
            for (int id = 0; id < consumers; ++id)
            {
                spawn(consumer(condition, buffer, received, consumers_done));
            }
            co_await until([&]
                           { return producers_done == producers && consumers_done == consumers; });
            BOOST_TEST(received.size() == static_cast<std::size_t>(producers * per_producer));
            std::sort(received.begin(), received.end());
            BOOST_TEST((std::adjacent_find(received.begin(), received.end()) == received.end()));
            BOOST_TEST(buffer.empty());
        }());
}
