// queue, joinable_queue, simple_queue: Python's semantics in one process (FIFO, maxsize,
// full/empty errors, timeouts, close), across processes under every start method, the
// 4 producers x 4 consumers stress (every item exactly once), a producer that exits before
// anyone reads (no feeder-thread deadlock), the awaitable forms, and joinable accounting.
#define BOOST_TEST_MODULE queue
#define BOOST_TEST_NO_MAIN
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../processes/pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::joinable_queue;
using weft::queue;
using weft::shared_array;
using weft::start_method;
using weft::test::all_methods;
using weft::test::patience;

namespace
{

struct reading
{
    std::string sensor;
    std::vector<double> values;

    template <class Archive>
    void serialize(Archive& archive)
    {
        archive(sensor, values);
    }
};

void put_strings(queue<std::string> q, int count)
{
    for (int i = 0; i < count; ++i)
    {
        q.put("item " + std::to_string(i));
    }
}

void produce(queue<std::int64_t> q, std::int64_t first, std::int64_t count)
{
    for (std::int64_t i = first; i < first + count; ++i)
    {
        q.put(i);
    }
}

// Takes items until it gets -1; counts each one in `seen`.
void consume(queue<std::int64_t> q, shared_array<std::uint32_t> seen)
{
    for (;;)
    {
        const std::int64_t item = q.get(patience);
        if (item < 0)
        {
            return;
        }
        std::atomic_ref<std::uint32_t>(seen[static_cast<std::size_t>(item)]).fetch_add(1);
    }
}

void work_and_mark(joinable_queue<int> q, shared_array<std::int64_t> sum)
{
    for (;;)
    {
        const int item = q.get(patience);
        if (item < 0)
        {
            q.task_done();
            return;
        }
        {
            auto held = sum.get_lock().guard();
            sum[0] += item;
        }
        q.task_done();
    }
}

// Puts `first`, `first` + 1, ... until killed.
void put_until_killed(queue<std::int64_t> q, std::int64_t first)
{
    for (std::int64_t i = first;; ++i)
    {
        q.put(i);
    }
}

// Gets until killed.
void get_until_killed(queue<std::int64_t> q)
{
    for (;;)
    {
        (void)q.get();
    }
}

} // namespace

// Every case must leave no descriptor, segment, /dev/shm name or zombie behind.
BOOST_FIXTURE_TEST_SUITE(queue_cases, weft::test::leak_check)

BOOST_AUTO_TEST_CASE(fifo_sizes_and_pythons_errors_in_one_process)
{
    queue<int> q(3);
    BOOST_TEST(q.empty());
    BOOST_TEST(q.maxsize() == 3u);
    q.put(1);
    q.put(2);
    q.put_nowait(3);
    BOOST_TEST(q.qsize() == 3u);
    BOOST_TEST(q.full());
    BOOST_CHECK_THROW(q.put_nowait(4), weft::queue_full);
    const auto start = std::chrono::steady_clock::now();
    BOOST_CHECK_THROW(q.put(4, 50ms), weft::queue_full);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 50ms));
    BOOST_TEST(q.get() == 1);
    BOOST_TEST(q.get_nowait() == 2);
    BOOST_TEST(q.get(10ms) == 3);
    BOOST_CHECK_THROW((void)q.get_nowait(), weft::queue_empty);
    BOOST_CHECK_THROW((void)q.get(30ms), weft::queue_empty);
    q.close();
    BOOST_CHECK_THROW(q.put(5), weft::invalid_state_error);
    BOOST_CHECK_THROW((void)q.get(false), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(items_that_need_cereal_and_a_full_buffer)
{
    queue<reading> q(weft::queue_options{.maxsize = 0, .buffer_bytes = 256});
    q.put({"left", {1.0, 2.5}});
    q.put({"right", {}});
    const reading a = q.get();
    BOOST_TEST(a.sensor == "left");
    BOOST_TEST(a.values.size() == 2u);
    BOOST_TEST(q.get().sensor == "right");
    // the buffer bounds the queue too: an item that can never fit is an error, not a hang
    BOOST_CHECK_THROW(q.put({"big", std::vector<double>(100, 1.0)}), std::length_error);
    int fitted = 0;
    try
    {
        for (;; ++fitted)
        {
            q.put_nowait({"x", {1.0}});
        }
    }
    catch (const weft::queue_full&)
    {
    }
    BOOST_TEST(fitted > 3);
    BOOST_TEST(q.qsize() == static_cast<std::size_t>(fitted));
}

BOOST_AUTO_TEST_CASE(a_child_puts_and_the_parent_gets_in_order_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        queue<std::string> q;
        weft::process child({.start_method = method}, put_strings, q, 500);
        child.start();
        for (int i = 0; i < 500; ++i)
        {
            BOOST_REQUIRE(q.get(patience) == "item " + std::to_string(i));
        }
        child.join(patience);
        BOOST_TEST(child.exitcode().value_or(-99) == 0);
    }
}

BOOST_AUTO_TEST_CASE(a_producer_exits_before_anyone_reads)
{
    // Python's Queue: the child's feeder thread cannot flush into a full pipe, so joining the
    // child before reading deadlocks. Here the items are in the queue's own memory.
    queue<std::string> q(weft::queue_options{.maxsize = 0, .buffer_bytes = 4 << 20});
    weft::process child({.start_method = start_method::spawn}, put_strings, q, 20000);
    child.start();
    child.join(patience);
    BOOST_TEST(child.exitcode().value_or(-99) == 0);
    BOOST_TEST(q.qsize() == 20000u);
    BOOST_TEST(q.get() == "item 0");
}

BOOST_AUTO_TEST_CASE(four_producers_four_consumers_every_item_exactly_once)
{
    constexpr std::int64_t total = 100000;
    constexpr int producers = 4;
    constexpr int consumers = 4;
    queue<std::int64_t> q(weft::queue_options{.maxsize = 1000});
    shared_array<std::uint32_t> seen(static_cast<std::size_t>(total), {.lock = false});
    std::vector<weft::process> children;
    for (int c = 0; c < consumers; ++c)
    {
        children.emplace_back(weft::process::options{}, consume, q, seen);
    }
    for (int p = 0; p < producers; ++p)
    {
        children.emplace_back(weft::process::options{}, produce, q, p * (total / producers),
                              total / producers);
    }
    for (auto& child : children)
    {
        child.start();
    }
    for (int p = 0; p < producers; ++p)
    {
        children[static_cast<std::size_t>(consumers + p)].join(patience);
    }
    for (int c = 0; c < consumers; ++c)
    {
        q.put(-1);
    }
    for (auto& child : children)
    {
        child.join(patience);
        BOOST_TEST(child.exitcode().value_or(-99) == 0);
    }
    std::size_t wrong = 0;
    for (const std::uint32_t n : seen.span())
    {
        wrong += n == 1 ? 0 : 1;
    }
    BOOST_TEST(wrong == 0u);
    BOOST_TEST(q.empty());
}

BOOST_AUTO_TEST_CASE(async_get_and_put_suspend_only_the_coroutine)
{
    queue<int> q(1);
    weft::event_loop loop;
    int ticks = 0;
    auto ticker = [&]() -> weft::task<void>
    {
        for (int i = 0; i < 5; ++i)
        {
            co_await weft::sleep_for(10ms);
            ++ticks;
        }
    };
    auto body = [&]() -> weft::task<int>
    {
        loop.spawn(ticker());
        weft::process child(
            {.start_method = start_method::forkserver},
            +[](queue<int> q)
            {
                std::this_thread::sleep_for(100ms);
                q.put(41);
                q.put(1);
            },
            q);
        child.start();
        const int first = co_await q.async_get(); // the loop ticks meanwhile
        const int seen_ticks = ticks;
        const int second = co_await q.async_get();
        co_await q.async_put(7);
        const int third = q.get();
        child.join(patience);
        co_return (seen_ticks >= 1 && third == 7) ? first + second : -1;
    };
    BOOST_TEST(loop.run(body()) == 42);
}

BOOST_AUTO_TEST_CASE(joinable_queue_join_waits_for_every_task_done)
{
    joinable_queue<int> q;
    shared_array<std::int64_t> sum(1);
    weft::process worker({.start_method = start_method::forkserver}, work_and_mark, q, sum);
    worker.start();
    for (int i = 1; i <= 100; ++i)
    {
        q.put(i);
    }
    q.put(-1);
    BOOST_TEST(q.join(patience));
    BOOST_TEST(sum.get(0) == 5050);
    worker.join(patience);
    BOOST_CHECK_THROW(q.task_done(), weft::invalid_state_error);
    // the coroutine form waits through the loop while another process marks the items done
    q.put(7);
    q.put(-1);
    weft::process again({.start_method = start_method::forkserver}, work_and_mark, q, sum);
    again.start();
    weft::event_loop loop;
    auto joined = [&]() -> weft::task<bool>
    {
        co_await q.async_join();
        co_return true;
    };
    BOOST_TEST(loop.run(joined()));
    again.join(patience);
    BOOST_TEST(sum.get(0) == 5057);
    q.put(1);
    BOOST_TEST(!q.join(30ms)); // one unfinished
    (void)q.get();
    q.task_done();
    BOOST_TEST(q.join(0s));
}

BOOST_AUTO_TEST_CASE(a_shared_value_travels_through_a_queue_as_the_same_memory)
{
    for (const start_method method : all_methods)
    {
        queue<weft::shared_value<std::int64_t>> inbox;
        queue<std::int64_t> replies;
        weft::process child(
            {.start_method = method},
            +[](queue<weft::shared_value<std::int64_t>> in, queue<std::int64_t> out)
            {
                for (int i = 0; i < 3; ++i)
                {
                    weft::shared_value<std::int64_t> v = in.get(patience);
                    v.set(v.get() * 10);
                    out.put(v.get());
                }
            },
            inbox, replies);
        child.start();
        std::vector<weft::shared_value<std::int64_t>> values;
        for (std::int64_t i = 1; i <= 3; ++i)
        {
            values.emplace_back(i);
            inbox.put(values.back());
        }
        for (std::int64_t i = 1; i <= 3; ++i)
        {
            BOOST_TEST(replies.get(patience) == i * 10);
            BOOST_TEST(values[static_cast<std::size_t>(i - 1)].get() == i * 10); // same memory
        }
        child.join(patience);
        BOOST_TEST(child.exitcode().value_or(-99) == 0);
    }
}

BOOST_AUTO_TEST_CASE(a_queue_travels_through_a_queue)
{
    queue<queue<std::string>> mailboxes;
    queue<std::string> reply_to;
    weft::process child(
        {.start_method = start_method::spawn},
        +[](queue<queue<std::string>> boxes)
        {
            queue<std::string> box = boxes.get(patience);
            box.put("hello from the child");
        },
        mailboxes);
    child.start();
    mailboxes.put(reply_to);
    BOOST_TEST(reply_to.get(patience) == "hello from the child");
    child.join(patience);
}

BOOST_AUTO_TEST_CASE(a_putter_and_a_getter_killed_midway_leave_a_queue_that_works)
{
    // Killed at a random moment of a tight loop, each is often inside its side's mutex, and
    // sometimes between the two stores that publish a put or a get: the next put and get must
    // take the mutex over, and the counts must agree with the ring again (qsize() is 0 exactly
    // when get_nowait() finds nothing).
    queue<std::int64_t> q(16);
    std::uint64_t rng = 88172645463325252ULL;
    for (std::int64_t round = 1; round <= 100; ++round)
    {
        BOOST_TEST_CONTEXT("round " << round)
        {
            weft::process putter({.start_method = start_method::fork}, put_until_killed, q,
                                 round * 1'000'000'000);
            weft::process getter({.start_method = start_method::fork}, get_until_killed, q);
            putter.start();
            getter.start();
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            std::this_thread::sleep_for(std::chrono::microseconds(2000 + rng % 8000));
            (rng & 1) != 0 ? putter.kill() : getter.kill();
            (rng & 1) != 0 ? getter.kill() : putter.kill();
            putter.join(patience);
            getter.join(patience);
            std::int64_t last = 0;
            const auto in_order = [&](std::int64_t item)
            {
                BOOST_TEST(item > last); // one putter per round: in order, never twice
                last = item;
            };
            // Takes the get mutex over (the queue may be full: room first).
            for (;;)
            {
                std::int64_t item = 0;
                try
                {
                    item = q.get_nowait();
                }
                catch (const weft::queue_empty&)
                {
                    break;
                }
                in_order(item);
            }
            q.put(-round, patience); // takes the put mutex over
            for (std::int64_t item = q.get(patience); item != -round; item = q.get(patience))
            {
                in_order(item);
            }
            BOOST_TEST(q.qsize() == 0u);
            BOOST_CHECK_THROW((void)q.get_nowait(), weft::queue_empty);
        }
    }
}

BOOST_AUTO_TEST_CASE(simple_queue_put_get_empty)
{
    weft::simple_queue<std::string> q;
    BOOST_TEST(q.empty());
    q.put("a");
    BOOST_TEST(!q.empty());
    BOOST_TEST(q.get() == "a");
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    weft::test::start_forkserver(); // its socket stays open: opened before any case counts
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
