#define BOOST_TEST_MODULE async_semaphore
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
using weft::async_semaphore;
using weft::task;
using weft::testing::run_task;
using weft::testing::spawn;
using weft::testing::under;
using weft::testing::until;

namespace
{

// Takes a permit and keeps it (the test releases it when it wants to).
task<void> acquire_and_record(async_semaphore& semaphore, std::string& outcome)
{
    outcome = "waiting";
    try
    {
        co_await semaphore.acquire();
        outcome = "acquired";
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

BOOST_AUTO_TEST_CASE(negative_initial_value_throws_invalid_argument)
{
    BOOST_CHECK_THROW(async_semaphore(-1), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(negative_release_count_throws_invalid_argument)
{
    async_semaphore semaphore(1);
    BOOST_CHECK_THROW(semaphore.release(-1), std::invalid_argument);
    BOOST_TEST(semaphore.value() == 1);
}

BOOST_AUTO_TEST_CASE(acquire_and_try_acquire_take_permits_until_none_are_left)
{
    run_task(
        []() -> task<void>
        {
            async_semaphore semaphore(3);
            co_await semaphore.acquire();
            BOOST_TEST(semaphore.value() == 2);
            BOOST_TEST(semaphore.try_acquire());
            co_await semaphore.acquire();
            BOOST_TEST(semaphore.value() == 0);
            BOOST_TEST(!semaphore.try_acquire());
            semaphore.release(3);
            BOOST_TEST(semaphore.value() == 3);
        }());
}

BOOST_AUTO_TEST_CASE(zero_initial_value_makes_acquire_wait_for_a_release)
{
    run_task(
        []() -> task<void>
        {
            async_semaphore semaphore(0);
            std::string outcome;
            spawn(acquire_and_record(semaphore, outcome));
            for (int i = 0; i < 5; ++i)
            {
                co_await weft::yield();
            }
            BOOST_TEST(outcome == "waiting");
            semaphore.release();
            co_await until([&] { return outcome == "acquired"; });
            BOOST_TEST(semaphore.value() == 0);
        }());
}

BOOST_AUTO_TEST_CASE(release_hands_permits_to_waiters_in_fifo_order)
{
    run_task(
        []() -> task<void>
        {
            async_semaphore semaphore(0);
            std::vector<int> order;
            int started = 0;
            const auto waiter = [](async_semaphore& s, std::vector<int>& out, int& n,
                                   int id) -> task<void>
            {
                ++n;
                co_await s.acquire();
                out.push_back(id);
            };
            for (int id = 0; id < 6; ++id)
            {
                spawn(waiter(semaphore, order, started, id));
            }
            co_await until([&] { return started == 6; });
            semaphore.release(2);
            co_await until([&] { return order.size() == 2; });
            for (int i = 0; i < 3; ++i)
            {
                co_await weft::yield();
            }
            BOOST_TEST(order.size() == 2u);
            semaphore.release(4);
            co_await until([&] { return order.size() == 6; });
            BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3, 4, 5}),
                       boost::test_tools::per_element());
            BOOST_TEST(semaphore.value() == 0);
        }());
}

BOOST_AUTO_TEST_CASE(released_permit_goes_to_the_waiter_not_to_a_later_try_acquire)
{
    run_task(
        []() -> task<void>
        {
            async_semaphore semaphore(0);
            std::string outcome;
            spawn(acquire_and_record(semaphore, outcome));
            co_await until([&] { return outcome == "waiting"; });
            semaphore.release();
            BOOST_TEST(semaphore.value() == 0);
            BOOST_TEST(!semaphore.try_acquire());
            co_await until([&] { return outcome == "acquired"; });
        }());
}

BOOST_AUTO_TEST_CASE(at_most_initial_value_tasks_hold_a_permit_at_once)
{
    run_task(
        []() -> task<void>
        {
            constexpr int tasks = 30;
            async_semaphore semaphore(3);
            int holding = 0;
            int most_holding = 0;
            int finished = 0;
            const auto worker = [](async_semaphore& s, int& in, int& most, int& done) -> task<void>
            {
                for (int round = 0; round < 5; ++round)
                {
                    co_await s.acquire();
                    ++in;
                    most = std::max(most, in);
                    co_await weft::yield();
                    --in;
                    s.release();
                    co_await weft::yield();
                }
                ++done;
            };
            for (int i = 0; i < tasks; ++i)
            {
                spawn(worker(semaphore, holding, most_holding, finished));
            }
            co_await until([&] { return finished == tasks; });
            BOOST_TEST(most_holding == 3);
            BOOST_TEST(semaphore.value() == 3);
        }());
}

BOOST_AUTO_TEST_CASE(cancelled_acquire_takes_no_permit_and_leaves_the_queue)
{
    run_task(
        []() -> task<void>
        {
            async_semaphore semaphore(0);
            std::stop_source source;
            std::string cancelled;
            std::string other;
            spawn(under(source.get_token(), acquire_and_record(semaphore, cancelled)));
            spawn(acquire_and_record(semaphore, other));
            co_await until([&] { return cancelled == "waiting" && other == "waiting"; });
            source.request_stop();
            co_await until([&] { return cancelled == "cancelled"; });
            semaphore.release();
            co_await until([&] { return other == "acquired"; });
            BOOST_TEST(semaphore.value() == 0);
            semaphore.release();
            BOOST_TEST(semaphore.value() == 1);
        }());
}

BOOST_AUTO_TEST_CASE(acquire_with_timeout_throws_timeout_error_and_the_semaphore_still_works)
{
    run_task(
        []() -> task<void>
        {
            async_semaphore semaphore(0);
            BOOST_CHECK_THROW(co_await weft::with_timeout(10ms, semaphore.acquire()),
                              weft::timeout_error);
            BOOST_TEST(semaphore.value() == 0);
            semaphore.release();
            co_await weft::with_timeout(1s, semaphore.acquire());
            BOOST_TEST(semaphore.value() == 0);
        }());
}

BOOST_AUTO_TEST_CASE(frame_destroyed_after_being_handed_a_permit_gives_it_back)
{
    async_semaphore semaphore(0); // outlives the loop, whose teardown destroys the waiter
    std::string outcome;
    {
        weft::event_loop loop;
        loop.run(
            [](async_semaphore& s, std::string& out) -> task<void>
            {
                spawn(acquire_and_record(s, out));
                co_await until([&] { return out == "waiting"; });
                s.release(); // handed to the waiter, which never gets to resume
                BOOST_TEST(s.value() == 0);
            }(semaphore, outcome));
    }
    BOOST_TEST(outcome == "waiting");
    BOOST_TEST(semaphore.value() == 1);
}

BOOST_AUTO_TEST_CASE(destroying_a_semaphore_with_waiters_resumes_them_with_invalid_state)
{
    run_task(
        []() -> task<void>
        {
            std::optional<async_semaphore> semaphore(std::in_place, 0);
            std::string outcome;
            spawn(acquire_and_record(*semaphore, outcome));
            co_await until([&] { return outcome == "waiting"; });
            semaphore.reset();
            co_await until([&] { return outcome != "waiting"; });
            BOOST_TEST(outcome == "invalid_state");
        }());
}
