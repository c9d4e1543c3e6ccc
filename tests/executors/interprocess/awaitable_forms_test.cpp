// The awaitable forms of the cross-process primitives: a coroutine waits on a condition (lock
// released meanwhile, held again after), on a barrier with other processes (action included),
// and is cancelled out of each, while its loop keeps running other tasks.
#define BOOST_TEST_MODULE interprocess_awaitable_forms
#define BOOST_TEST_NO_MAIN
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <thread>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../processes/pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::shared_value;
using weft::start_method;
using weft::interprocess::barrier;
using weft::interprocess::condition;
using weft::interprocess::rlock;
using weft::test::patience;

namespace
{

shared_value<std::int64_t> g_trips(0, {.lock = false}); // inherited or set per process

void count_trip()
{
    ++g_trips.raw();
}

void set_and_notify(condition c, shared_value<int> ready)
{
    std::this_thread::sleep_for(200ms);
    auto held = c.guard();
    ready.raw() = 1;
    c.notify_all();
}

// Takes c's lock as soon as a waiter lets go of it and keeps it a while; `holding` is 1 only
// while it does (cleared before the release, so a waiter that blocked until the release never
// sees it set).
void hold_the_lock(condition c, shared_value<int> holding)
{
    if (!c.acquire(patience))
    {
        return;
    }
    std::atomic_ref<int>(holding.raw()).store(1);
    std::this_thread::sleep_for(300ms);
    std::atomic_ref<int>(holding.raw()).store(0);
    c.release();
}

void wait_at(barrier b)
{
    (void)b.wait(patience);
}

// A ticker proving the loop ran while another coroutine waited.
weft::task<void> tick(int& ticks)
{
    for (int i = 0; i < 4; ++i)
    {
        co_await weft::sleep_for(5ms);
        ++ticks;
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(a_coroutine_waits_on_a_condition_that_another_process_notifies)
{
    condition c;
    shared_value<int> ready(0, {.lock = false});
    weft::process child({.start_method = start_method::forkserver}, set_and_notify, c, ready);
    weft::event_loop loop;
    int ticks = 0;
    auto body = [&]() -> weft::task<bool>
    {
        loop.spawn(tick(ticks));
        child.start();
        (void)c.acquire();
        while (ready.raw() == 0)
        {
            co_await c.async_wait(); // releases c's lock for the child
        }
        const bool held_after = c.acquire(false); // recursive: held again, so this succeeds
        c.release();
        c.release();
        co_return held_after&& ticks >= 1;
    };
    BOOST_TEST(loop.run(body()));
    child.join(patience);
}

BOOST_AUTO_TEST_CASE(cancelling_a_condition_wait_gives_the_lock_back_held)
{
    condition c;
    weft::event_loop loop;
    auto body = [&]() -> weft::task<bool>
    {
        (void)c.acquire();
        bool cancelled = false;
        try
        {
            co_await weft::with_timeout(30ms, c.async_wait());
        }
        catch (const weft::timeout_error&)
        {
            cancelled = true;
        }
        const bool still_mine = c.acquire(false); // we hold it again (recursion 2 now)
        c.release();
        c.release();
        co_return cancelled&& still_mine;
    };
    BOOST_TEST(loop.run(body()));
}

BOOST_AUTO_TEST_CASE(a_cancelled_condition_wait_retakes_the_lock_without_blocking_the_loop)
{
    rlock l;
    condition c(l);
    shared_value<int> holding(0, {.lock = false});
    std::atomic_ref<int> held(holding.raw());
    weft::process holder({.start_method = start_method::fork}, hold_the_lock, c, holding);
    weft::event_loop loop;
    std::stop_source stop;
    bool stop_sent = false;
    bool done = false;
    int ticks_after_stop = 0; // loop turns after the cancel while the other process held the lock
    auto ticker = [&]() -> weft::task<void>
    {
        while (!done)
        {
            co_await weft::sleep_for(2ms);
            if (stop_sent && held.load() == 1)
            {
                ++ticks_after_stop;
            }
        }
    };
    auto canceller = [&]() -> weft::task<void>
    {
        const auto until = std::chrono::steady_clock::now() + patience;
        while (held.load() == 0 && std::chrono::steady_clock::now() < until)
        {
            co_await weft::sleep_for(1ms);
        }
        stop.request_stop();
        stop_sent = true;
    };
    auto body = [&]() -> weft::task<bool>
    {
        (void)l.acquire();
        (void)l.acquire(); // recursion level 2, to be restored
        holder.start();
        loop.spawn(ticker());
        loop.spawn(canceller());
        bool cancelled = false;
        try
        {
            co_await weft::with_stop_token(stop.get_token(), c.async_wait());
        }
        catch (const weft::operation_cancelled&)
        {
            cancelled = true;
        }
        done = true;
        co_return cancelled;
    };
    BOOST_TEST(loop.run(body()));
    BOOST_TEST(stop_sent);
    BOOST_TEST(ticks_after_stop >= 3);
    BOOST_TEST(l.is_owned());
    BOOST_TEST(l.recursion_count() == 2U);
    l.release();
    l.release();
    BOOST_TEST(!l.is_owned());
    BOOST_TEST(holder.join(patience));
    BOOST_TEST(holder.exitcode().value_or(-99) == 0);
}

BOOST_AUTO_TEST_CASE(a_coroutine_meets_two_processes_at_a_barrier_and_the_action_runs_once)
{
    barrier b(3, count_trip);
    weft::process first({.start_method = start_method::fork}, wait_at, b);
    weft::process second({.start_method = start_method::fork}, wait_at, b);
    weft::event_loop loop;
    int ticks = 0;
    auto body = [&]() -> weft::task<std::size_t>
    {
        loop.spawn(tick(ticks));
        first.start();
        co_await weft::sleep_for(20ms);
        second.start();
        co_return co_await b.async_wait();
    };
    const std::size_t index = loop.run(body());
    BOOST_TEST(index < 3u);
    first.join(patience);
    second.join(patience);
    BOOST_TEST(first.exitcode().value_or(-99) == 0);
    BOOST_TEST(second.exitcode().value_or(-99) == 0);
    BOOST_TEST(g_trips.raw() == 1); // forked children share g_trips' memory
    BOOST_TEST(!b.broken());
}

BOOST_AUTO_TEST_CASE(cancelling_a_barrier_wait_breaks_the_barrier_as_a_timeout_does)
{
    barrier b(2);
    weft::event_loop loop;
    auto body = [&]() -> weft::task<bool>
    {
        try
        {
            (void)co_await weft::with_timeout(20ms, b.async_wait());
        }
        catch (const weft::timeout_error&)
        {
            co_return true;
        }
        co_return false;
    };
    BOOST_TEST(loop.run(body()));
    BOOST_TEST(b.broken());
    BOOST_CHECK_THROW((void)b.wait(1s), weft::broken_barrier_error);
    b.reset();
    BOOST_TEST(!b.broken());
    BOOST_TEST(b.n_waiting() == 0u);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
