#define BOOST_TEST_MODULE async_queue
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/loop_helpers.hpp"
#include "support/run_task.hpp"

using namespace std::chrono_literals;
using weft::async_queue;
using weft::task;
using weft::testing::run_task;
using weft::testing::spawn;
using weft::testing::under;
using weft::testing::until;

namespace
{

struct get_report
{
    std::string outcome;
    std::optional<int> item;
};

task<void> get_and_record(async_queue<int>& queue, get_report& report)
{
    report.outcome = "waiting";
    try
    {
        report.item = co_await queue.get();
        report.outcome = "got";
    }
    catch (const weft::operation_cancelled&)
    {
        report.outcome = "cancelled";
    }
    catch (const weft::queue_closed&)
    {
        report.outcome = "closed";
    }
    catch (const weft::invalid_state_error&)
    {
        report.outcome = "invalid_state";
    }
}

task<void> put_and_record(async_queue<int>& queue, int item, std::string& outcome)
{
    outcome = "waiting";
    try
    {
        co_await queue.put(item);
        outcome = "put";
    }
    catch (const weft::operation_cancelled&)
    {
        outcome = "cancelled";
    }
    catch (const weft::queue_closed&)
    {
        outcome = "closed";
    }
    catch (const weft::invalid_state_error&)
    {
        outcome = "invalid_state";
    }
}

std::vector<int> drain(async_queue<int>& queue)
{
    std::vector<int> items;
    while (auto item = queue.try_get())
    {
        items.push_back(*item);
    }
    return items;
}

} // namespace

BOOST_AUTO_TEST_CASE(items_come_out_in_the_order_they_were_put)
{
    run_task(
        []() -> task<void>
        {
            async_queue<int> queue;
            for (int i = 0; i < 5; ++i)
            {
                co_await queue.put(i);
            }
            BOOST_TEST(queue.size() == 5u);
            for (int i = 0; i < 5; ++i)
            {
                BOOST_TEST(co_await queue.get() == i);
            }
            BOOST_TEST(queue.empty());
        }());
}

BOOST_AUTO_TEST_CASE(try_put_and_try_get_never_suspend)
{
    async_queue<std::unique_ptr<int>> queue(1);
    BOOST_TEST(queue.maxsize() == 1u);
    BOOST_TEST(!queue.try_get().has_value());
    BOOST_TEST(queue.try_put(std::make_unique<int>(1)));
    BOOST_TEST(queue.full());
    auto second = std::make_unique<int>(2);
    BOOST_TEST(!queue.try_put(std::move(second)));
    BOOST_TEST((second != nullptr)); // a refused item is not moved from
    auto first = queue.try_get();
    BOOST_TEST((first.has_value() && **first == 1));
    BOOST_TEST(queue.empty());
}

BOOST_AUTO_TEST_CASE(try_put_of_a_copy_respects_the_bound)
{
    async_queue<std::string> queue(2);
    const std::string item = "x";
    BOOST_TEST(queue.try_put(item));
    BOOST_TEST(queue.try_put(item));
    BOOST_TEST(!queue.try_put(item));
    BOOST_TEST(queue.size() == 2u);
}

BOOST_AUTO_TEST_CASE(unbounded_queue_is_never_full)
{
    async_queue<int> queue;
    for (int i = 0; i < 10'000; ++i)
    {
        BOOST_TEST_REQUIRE(queue.try_put(i));
    }
    BOOST_TEST(!queue.full());
    BOOST_TEST(queue.size() == 10'000u);
}

BOOST_AUTO_TEST_CASE(bounded_queue_blocks_the_producer_until_a_get_makes_room)
{
    run_task(
        []() -> task<void>
        {
            async_queue<int> queue(2);
            co_await queue.put(1);
            co_await queue.put(2);
            BOOST_TEST(queue.full());
            std::string outcome;
            spawn(put_and_record(queue, 3, outcome));
            for (int i = 0; i < 5; ++i)
            {
                co_await weft::yield();
            }
            BOOST_TEST(outcome == "waiting");
            BOOST_TEST(queue.size() == 2u);
            BOOST_TEST(co_await queue.get() == 1);
            BOOST_TEST(queue.size() == 2u); // the blocked item moved in at once
            co_await until([&] { return outcome == "put"; });
            BOOST_TEST(co_await queue.get() == 2);
            BOOST_TEST(co_await queue.get() == 3);
        }());
}

BOOST_AUTO_TEST_CASE(put_hands_the_item_straight_to_a_waiting_get)
{
    run_task(
        []() -> task<void>
        {
            async_queue<int> queue(1);
            get_report report;
            spawn(get_and_record(queue, report));
            co_await until([&] { return report.outcome == "waiting"; });
            co_await queue.put(7);
            BOOST_TEST(queue.empty());
            co_await until([&] { return report.outcome == "got"; });
            BOOST_TEST(*report.item == 7);
        }());
}

BOOST_AUTO_TEST_CASE(blocked_getters_are_served_oldest_first)
{
    run_task(
        []() -> task<void>
        {
            async_queue<int> queue;
            std::vector<get_report> reports(4);
            for (auto& report : reports)
            {
                spawn(get_and_record(queue, report));
            }
            co_await until([&] { return reports.back().outcome == "waiting"; });
            for (int i = 0; i < 4; ++i)
            {
                co_await queue.put(i * 10);
            }
            co_await until([&] { return reports.back().outcome == "got"; });
            for (int i = 0; i < 4; ++i)
            {
                BOOST_TEST(*reports[static_cast<std::size_t>(i)].item == i * 10);
            }
        }());
}

BOOST_AUTO_TEST_CASE(blocked_putters_are_served_oldest_first)
{
    run_task(
        []() -> task<void>
        {
            async_queue<int> queue(1);
            co_await queue.put(0);
            std::vector<std::string> outcomes(4);
            for (int i = 0; i < 4; ++i)
            {
                spawn(put_and_record(queue, i + 1, outcomes[static_cast<std::size_t>(i)]));
            }
            co_await until([&] { return outcomes.back() == "waiting"; });
            for (int i = 0; i < 5; ++i)
            {
                BOOST_TEST(co_await queue.get() == i);
            }
            co_await until([&] { return outcomes.back() == "put"; });
        }());
}

BOOST_AUTO_TEST_CASE(close_makes_put_throw_and_get_drain_the_queue_then_throw)
{
    run_task(
        []() -> task<void>
        {
            async_queue<int> queue;
            co_await queue.put(1);
            co_await queue.put(2);
            queue.close();
            BOOST_TEST(queue.closed());
            BOOST_CHECK_THROW(co_await queue.put(3), weft::queue_closed);
            BOOST_CHECK_THROW((void)queue.try_put(3), weft::queue_closed);
            BOOST_TEST(co_await queue.get() == 1);
            BOOST_TEST(*queue.try_get() == 2);
            BOOST_CHECK_THROW((void)co_await queue.get(), weft::queue_closed);
            BOOST_CHECK_THROW((void)queue.try_get(), weft::queue_closed);
            queue.close(); // idempotent
        }());
}

BOOST_AUTO_TEST_CASE(close_wakes_waiting_getters_and_putters_with_queue_closed)
{
    run_task(
        []() -> task<void>
        {
            async_queue<int> empty_queue;
            std::vector<get_report> getters(3);
            for (auto& report : getters)
            {
                spawn(get_and_record(empty_queue, report));
            }
            async_queue<int> full_queue(1);
            co_await full_queue.put(0);
            std::vector<std::string> putters(3);
            for (auto& outcome : putters)
            {
                spawn(put_and_record(full_queue, 1, outcome));
            }
            co_await until(
                [&] { return getters.back().outcome == "waiting" && putters.back() == "waiting"; });
            empty_queue.close();
            full_queue.close();
            co_await until(
                [&] { return getters.back().outcome != "waiting" && putters.back() != "waiting"; });
            for (const auto& report : getters)
            {
                BOOST_TEST(report.outcome == "closed");
            }
            for (const auto& outcome : putters)
            {
                BOOST_TEST(outcome == "closed");
            }
            // The blocked puts did not enqueue; the item put before the close still drains.
            BOOST_TEST(full_queue.size() == 1u);
            BOOST_TEST(co_await full_queue.get() == 0);
            BOOST_CHECK_THROW((void)co_await full_queue.get(), weft::queue_closed);
        }());
}

BOOST_AUTO_TEST_CASE(cancelled_get_takes_no_item_and_the_next_get_receives_it)
{
    run_task(
        []() -> task<void>
        {
            async_queue<int> queue;
            std::stop_source source;
            get_report cancelled;
            get_report other;
            spawn(under(source.get_token(), get_and_record(queue, cancelled)));
            spawn(get_and_record(queue, other));
            co_await until(
                [&] { return cancelled.outcome == "waiting" && other.outcome == "waiting"; });
            source.request_stop();
            co_await until([&] { return cancelled.outcome == "cancelled"; });
            co_await queue.put(5);
            co_await until([&] { return other.outcome == "got"; });
            BOOST_TEST(*other.item == 5);
            BOOST_TEST(!cancelled.item.has_value());
        }());
}

BOOST_AUTO_TEST_CASE(cancelled_put_does_not_enqueue_its_item)
{
    run_task(
        []() -> task<void>
        {
            async_queue<int> queue(1);
            co_await queue.put(1);
            std::stop_source source;
            std::string cancelled;
            std::string other;
            spawn(under(source.get_token(), put_and_record(queue, 2, cancelled)));
            spawn(put_and_record(queue, 3, other));
            co_await until([&] { return cancelled == "waiting" && other == "waiting"; });
            source.request_stop();
            co_await until([&] { return cancelled == "cancelled"; });
            BOOST_TEST(co_await queue.get() == 1);
            BOOST_TEST(co_await queue.get() == 3);
            BOOST_TEST(queue.empty());
            co_await until([&] { return other == "put"; });
        }());
}

BOOST_AUTO_TEST_CASE(get_with_timeout_throws_timeout_error_and_the_queue_still_works)
{
    run_task(
        []() -> task<void>
        {
            async_queue<int> queue;
            BOOST_CHECK_THROW(co_await weft::with_timeout(10ms, queue.get()), weft::timeout_error);
            co_await queue.put(4);
            BOOST_TEST(co_await weft::with_timeout(1s, queue.get()) == 4);
        }());
}

BOOST_AUTO_TEST_CASE(put_with_timeout_on_a_full_queue_throws_timeout_error_and_enqueues_nothing)
{
    run_task(
        []() -> task<void>
        {
            async_queue<int> queue(1);
            co_await queue.put(1);
            BOOST_CHECK_THROW(co_await weft::with_timeout(10ms, queue.put(2)), weft::timeout_error);
            BOOST_TEST(queue.size() == 1u);
            BOOST_TEST(co_await queue.get() == 1);
            co_await weft::with_timeout(1s, queue.put(3));
            BOOST_TEST(drain(queue) == (std::vector<int>{3}), boost::test_tools::per_element());
        }());
}

BOOST_AUTO_TEST_CASE(stop_after_an_item_was_handed_to_a_get_still_returns_the_item)
{
    run_task(
        []() -> task<void>
        {
            async_queue<int> queue;
            std::stop_source source;
            get_report report;
            spawn(under(source.get_token(), get_and_record(queue, report)));
            co_await until([&] { return report.outcome == "waiting"; });
            co_await queue.put(9); // handed over; the getter has not resumed yet
            source.request_stop();
            co_await until([&] { return report.outcome != "waiting"; });
            BOOST_TEST(report.outcome == "got");
            BOOST_TEST(*report.item == 9);
        }());
}

BOOST_AUTO_TEST_CASE(get_destroyed_after_being_handed_an_item_puts_it_back_at_the_front)
{
    async_queue<int> queue; // outlives the loop, whose teardown destroys the getter
    get_report report;
    {
        weft::event_loop loop;
        loop.run(
            [](async_queue<int>& q, get_report& r) -> task<void>
            {
                spawn(get_and_record(q, r));
                co_await until([&] { return r.outcome == "waiting"; });
                co_await q.put(1); // handed to the getter, which never gets to resume
                co_await q.put(2);
                BOOST_TEST(q.size() == 1u);
            }(queue, report));
    }
    BOOST_TEST(report.outcome == "waiting");
    BOOST_TEST(drain(queue) == (std::vector<int>{1, 2}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(no_item_is_lost_or_duplicated_when_waits_keep_timing_out)
{
    run_task(
        []() -> task<void>
        {
            constexpr int producers = 3;
            constexpr int consumers = 3;
            constexpr int per_producer = 200;
            async_queue<int> queue(2);
            std::vector<int> received;
            int producers_done = 0;
            const auto producer = [](async_queue<int>& q, int id, int& done) -> task<void>
            {
                std::minstd_rand random(static_cast<unsigned>(id) + 1);
                for (int i = 0; i < per_producer; ++i)
                {
                    const int item = id * 1000 + i;
                    for (;;)
                    {
                        try
                        {
                            co_await weft::with_timeout(std::chrono::microseconds(random() % 300),
                                                        q.put(item));
                            break;
                        }
                        catch (const weft::timeout_error&)
                        {
                        }
                    }
                }
                ++done;
            };
            const auto consumer = [](async_queue<int>& q, std::vector<int>& out,
                                     int id) -> task<void>
            {
                std::minstd_rand random(static_cast<unsigned>(id) + 100);
                for (;;)
                {
                    try
                    {
                        out.push_back(co_await weft::with_timeout(
                            std::chrono::microseconds(random() % 300), q.get()));
                        if (random() % 4 == 0)
                        {
                            co_await weft::sleep_for(std::chrono::microseconds(random() % 200));
                        }
                    }
                    catch (const weft::timeout_error&)
                    {
                    }
                    catch (const weft::queue_closed&)
                    {
                        co_return;
                    }
                }
            };
            for (int id = 0; id < producers; ++id)
            {
                spawn(producer(queue, id, producers_done));
            }
            for (int id = 0; id < consumers; ++id)
            {
                spawn(consumer(queue, received, id));
            }
            co_await until([&] { return producers_done == producers; });
            queue.close();
            co_await until([&]
                           { return received.size() >= std::size_t{producers * per_producer}; });
            for (int i = 0; i < 10; ++i)
            {
                co_await weft::yield();
            }
            std::sort(received.begin(), received.end());
            std::vector<int> expected;
            for (int id = 0; id < producers; ++id)
            {
                for (int i = 0; i < per_producer; ++i)
                {
                    expected.push_back(id * 1000 + i);
                }
            }
            BOOST_TEST(received == expected, boost::test_tools::per_element());
        }());
}

BOOST_AUTO_TEST_CASE(hundred_thousand_hand_offs_through_a_one_slot_queue_keep_the_stack_flat)
{
    run_task(
        []() -> task<void>
        {
            constexpr int items = 100'000;
            async_queue<int> queue(1);
            long sum = 0;
            bool done = false;
            const auto consumer = [](async_queue<int>& q, long& total, bool& d) -> task<void>
            {
                for (int i = 0; i < items; ++i)
                {
                    total += co_await q.get();
                }
                d = true;
            };
            spawn(consumer(queue, sum, done));
            for (int i = 0; i < items; ++i)
            {
                co_await queue.put(1);
            }
            co_await until([&] { return done; });
            BOOST_TEST(sum == items);
        }());
}

BOOST_AUTO_TEST_CASE(destroying_a_queue_with_waiters_resumes_them_with_invalid_state)
{
    run_task(
        []() -> task<void>
        {
            std::optional<async_queue<int>> queue(std::in_place);
            get_report report;
            spawn(get_and_record(*queue, report));
            co_await until([&] { return report.outcome == "waiting"; });
            queue.reset();
            co_await until([&] { return report.outcome != "waiting"; });
            BOOST_TEST(report.outcome == "invalid_state");
        }());
}
