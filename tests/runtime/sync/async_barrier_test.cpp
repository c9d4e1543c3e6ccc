#define BOOST_TEST_MODULE async_barrier
#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/loop_helpers.hpp"
#include "support/run_task.hpp"

using namespace std::chrono_literals;
using weft::async_barrier;
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
    std::size_t index = 0;
};

task<void> wait_and_record(async_barrier& barrier, wait_report& report)
{
    report.outcome = "waiting";
    try
    {
        report.index = co_await barrier.wait();
        report.outcome = "passed";
    }
    catch (const weft::broken_barrier_error&)
    {
        report.outcome = "broken";
    }
    catch (const weft::operation_cancelled&)
    {
        report.outcome = "cancelled";
    }
    catch (const weft::invalid_state_error&)
    {
        report.outcome = "invalid_state";
    }
    catch (const std::runtime_error& e)
    {
        report.outcome = e.what();
    }
}

bool all_are(const std::vector<wait_report>& reports, const std::string& outcome)
{
    return std::all_of(reports.begin(), reports.end(),
                       [&](const wait_report& r) { return r.outcome == outcome; });
}

} // namespace

BOOST_AUTO_TEST_CASE(zero_parties_throws_invalid_argument)
{
    BOOST_CHECK_THROW(async_barrier(0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(single_party_barrier_trips_at_once_with_index_zero)
{
    run_task(
        []() -> task<void>
        {
            int trips = 0;
            async_barrier barrier(1, [&] { ++trips; });
            BOOST_TEST(co_await barrier.wait() == 0u);
            BOOST_TEST(co_await barrier.wait() == 0u);
            BOOST_TEST(trips == 2);
        }());
}

BOOST_AUTO_TEST_CASE(wait_returns_the_arrival_index_once_every_party_has_arrived)
{
    run_task(
        []() -> task<void>
        {
            async_barrier barrier(4);
            BOOST_TEST(barrier.parties() == 4u);
            std::vector<wait_report> reports(3);
            for (auto& report : reports)
            {
                spawn(wait_and_record(barrier, report));
            }
            co_await until([&] { return barrier.n_waiting() == 3; });
            BOOST_TEST(all_are(reports, "waiting"));
            BOOST_TEST(co_await barrier.wait() == 3u); // the last to arrive
            BOOST_TEST(barrier.n_waiting() == 0u);
            co_await until([&] { return all_are(reports, "passed"); });
            for (std::size_t i = 0; i < reports.size(); ++i)
            {
                BOOST_TEST(reports[i].index == i);
            }
            BOOST_TEST(!barrier.broken());
        }());
}

BOOST_AUTO_TEST_CASE(action_runs_once_per_trip_in_the_last_task_before_anyone_is_released)
{
    run_task(
        []() -> task<void>
        {
            int trips = 0;
            std::vector<wait_report> reports(2);
            bool released_before_action = false;
            async_barrier barrier(3,
                                  [&]
                                  {
                                      ++trips;
                                      released_before_action =
                                          released_before_action || !all_are(reports, "waiting");
                                  });
            for (auto& report : reports)
            {
                spawn(wait_and_record(barrier, report));
            }
            co_await until([&] { return barrier.n_waiting() == 2; });
            BOOST_TEST(trips == 0);
            BOOST_TEST(co_await barrier.wait() == 2u);
            BOOST_TEST(trips == 1);
            BOOST_TEST(!released_before_action);
            co_await until([&] { return all_are(reports, "passed"); });
            BOOST_TEST(trips == 1);
        }());
}

BOOST_AUTO_TEST_CASE(barrier_is_reusable_for_many_cycles)
{
    run_task(
        []() -> task<void>
        {
            constexpr int parties = 5;
            constexpr int cycles = 20;
            int trips = 0;
            async_barrier barrier(parties, [&] { ++trips; });
            std::vector<std::vector<std::size_t>> indices(cycles);
            int finished = 0;
            const auto party = [](async_barrier& b, std::vector<std::vector<std::size_t>>& out,
                                  int& done, int delay) -> task<void>
            {
                for (int cycle = 0; cycle < cycles; ++cycle)
                {
                    for (int i = 0; i < delay; ++i)
                    {
                        co_await weft::yield();
                    }
                    out[static_cast<std::size_t>(cycle)].push_back(co_await b.wait());
                }
                ++done;
            };
            for (int p = 0; p < parties; ++p)
            {
                spawn(party(barrier, indices, finished, p));
            }
            co_await until([&] { return finished == parties; });
            BOOST_TEST(trips == cycles);
            for (auto& cycle : indices)
            {
                std::sort(cycle.begin(), cycle.end());
                BOOST_TEST(cycle == (std::vector<std::size_t>{0, 1, 2, 3, 4}),
                           boost::test_tools::per_element());
            }
        }());
}

BOOST_AUTO_TEST_CASE(abort_breaks_the_waiters_and_every_later_wait_until_reset)
{
    run_task(
        []() -> task<void>
        {
            async_barrier barrier(3);
            std::vector<wait_report> reports(2);
            for (auto& report : reports)
            {
                spawn(wait_and_record(barrier, report));
            }
            co_await until([&] { return barrier.n_waiting() == 2; });
            barrier.abort();
            BOOST_TEST(barrier.broken());
            BOOST_TEST(barrier.n_waiting() == 0u);
            co_await until([&] { return all_are(reports, "broken"); });
            BOOST_CHECK_THROW(co_await barrier.wait(), weft::broken_barrier_error);
            barrier.reset();
            BOOST_TEST(!barrier.broken());
            std::vector<wait_report> again(2);
            for (auto& report : again)
            {
                spawn(wait_and_record(barrier, report));
            }
            co_await until([&] { return barrier.n_waiting() == 2; });
            BOOST_TEST(co_await barrier.wait() == 2u);
            co_await until([&] { return all_are(again, "passed"); });
        }());
}

BOOST_AUTO_TEST_CASE(reset_breaks_the_current_waiters_and_leaves_the_barrier_usable)
{
    run_task(
        []() -> task<void>
        {
            async_barrier barrier(2);
            wait_report early;
            spawn(wait_and_record(barrier, early));
            co_await until([&] { return barrier.n_waiting() == 1; });
            barrier.reset();
            BOOST_TEST(!barrier.broken());
            BOOST_TEST(barrier.n_waiting() == 0u);
            co_await until([&] { return early.outcome == "broken"; });
            wait_report late;
            spawn(wait_and_record(barrier, late));
            co_await until([&] { return barrier.n_waiting() == 1; });
            BOOST_TEST(co_await barrier.wait() == 1u);
            co_await until([&] { return late.outcome == "passed"; });
            BOOST_TEST(late.index == 0u);
        }());
}

BOOST_AUTO_TEST_CASE(action_that_throws_breaks_the_barrier_and_reaches_only_the_last_task)
{
    run_task(
        []() -> task<void>
        {
            async_barrier barrier(3, [] { throw std::runtime_error("action failed"); });
            std::vector<wait_report> reports(2);
            for (auto& report : reports)
            {
                spawn(wait_and_record(barrier, report));
            }
            co_await until([&] { return barrier.n_waiting() == 2; });
            wait_report last;
            co_await wait_and_record(barrier, last);
            BOOST_TEST(last.outcome == "action failed");
            BOOST_TEST(barrier.broken());
            co_await until([&] { return all_are(reports, "broken"); });
        }());
}

BOOST_AUTO_TEST_CASE(cancelled_waiter_breaks_the_barrier_for_the_others)
{
    run_task(
        []() -> task<void>
        {
            async_barrier barrier(3);
            std::stop_source source;
            wait_report cancelled;
            wait_report other;
            spawn(under(source.get_token(), wait_and_record(barrier, cancelled)));
            spawn(wait_and_record(barrier, other));
            co_await until([&] { return barrier.n_waiting() == 2; });
            source.request_stop();
            co_await until(
                [&] { return cancelled.outcome != "waiting" && other.outcome != "waiting"; });
            BOOST_TEST(cancelled.outcome == "cancelled");
            BOOST_TEST(other.outcome == "broken");
            BOOST_TEST(barrier.broken());
            BOOST_CHECK_THROW(co_await barrier.wait(), weft::broken_barrier_error);
        }());
}

BOOST_AUTO_TEST_CASE(wait_by_an_already_cancelled_task_breaks_the_barrier)
{
    run_task(
        []() -> task<void>
        {
            async_barrier barrier(2);
            wait_report other;
            spawn(wait_and_record(barrier, other));
            co_await until([&] { return barrier.n_waiting() == 1; });
            std::stop_source source;
            source.request_stop();
            wait_report cancelled;
            co_await under(source.get_token(), wait_and_record(barrier, cancelled));
            BOOST_TEST(cancelled.outcome == "cancelled");
            co_await until([&] { return other.outcome == "broken"; });
        }());
}

BOOST_AUTO_TEST_CASE(wait_with_timeout_throws_timeout_error_breaks_the_barrier_and_reset_heals_it)
{
    run_task(
        []() -> task<void>
        {
            async_barrier barrier(2);
            BOOST_CHECK_THROW(co_await weft::with_timeout(10ms, barrier.wait()),
                              weft::timeout_error);
            BOOST_TEST(barrier.broken());
            BOOST_TEST(barrier.n_waiting() == 0u);
            barrier.reset();
            wait_report other;
            spawn(wait_and_record(barrier, other));
            co_await until([&] { return barrier.n_waiting() == 1; });
            BOOST_TEST(co_await weft::with_timeout(1s, barrier.wait()) == 1u);
            co_await until([&] { return other.outcome == "passed"; });
        }());
}

BOOST_AUTO_TEST_CASE(waiter_destroyed_while_waiting_breaks_the_barrier)
{
    async_barrier barrier(3); // outlives the loop, whose teardown destroys the waiter
    wait_report report;
    {
        weft::event_loop loop;
        loop.run(
            [](async_barrier& b, wait_report& r) -> task<void>
            {
                spawn(wait_and_record(b, r));
                co_await until([&] { return b.n_waiting() == 1; });
            }(barrier, report));
        BOOST_TEST(!barrier.broken());
    }
    BOOST_TEST(barrier.broken());
    BOOST_TEST(barrier.n_waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(destroying_a_barrier_with_waiters_resumes_them_with_invalid_state)
{
    run_task(
        []() -> task<void>
        {
            std::optional<async_barrier> barrier(std::in_place, 2);
            wait_report report;
            spawn(wait_and_record(*barrier, report));
            co_await until([&] { return barrier->n_waiting() == 1; });
            barrier.reset();
            co_await until([&] { return report.outcome != "waiting"; });
            BOOST_TEST(report.outcome == "invalid_state");
        }());
}
