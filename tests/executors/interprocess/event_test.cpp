// interprocess::event: Python's multiprocessing.Event. A child sets it while the parent waits
// (every start method), set wakes every waiting process, clear, a wait that times out, and the
// awaitable wait from an event loop while another process sets it.
#define BOOST_TEST_MODULE interprocess_event
#define BOOST_TEST_NO_MAIN
#include <chrono>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../processes/pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::shared_value;
using weft::start_method;
using weft::interprocess::event;
using weft::test::all_methods;
using weft::test::patience;

namespace
{

void set_later(event e, int delay_ms)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    e.set();
}

// Waits for the event; counts itself in `woken` when the wait returned true.
void wait_and_count(event e, shared_value<int> woken)
{
    if (e.wait(patience))
    {
        auto held = woken.get_lock().guard();
        woken.raw() += 1;
    }
}

// Sees the flag raised by the parent, lowers it, reports what it saw.
void see_then_clear(event e, shared_value<int> seen)
{
    seen.set(e.is_set() ? 1 : 0);
    e.clear();
}

} // namespace

BOOST_AUTO_TEST_CASE(a_child_sets_it_while_the_parent_waits)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT("start method " << static_cast<int>(method))
        {
            event e;
            BOOST_TEST(!e.is_set());
            weft::process child({.start_method = method}, set_later, e, 100);
            child.start();
            const auto start = std::chrono::steady_clock::now();
            BOOST_TEST(e.wait(patience));
            BOOST_TEST((std::chrono::steady_clock::now() - start < patience));
            BOOST_TEST(e.is_set());
            BOOST_TEST(e.wait(0s)); // stays set
            BOOST_REQUIRE(child.join(patience));
            BOOST_TEST(child.exitcode().value_or(-99) == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(set_wakes_every_waiting_process)
{
    event e;
    shared_value<int> woken(0);
    std::vector<weft::process> children;
    for (int i = 0; i < 4; ++i)
    {
        children.emplace_back(weft::process::options{.start_method = start_method::fork},
                              wait_and_count, e, woken);
        children.back().start();
    }
    std::this_thread::sleep_for(50ms);
    BOOST_TEST(woken.get() == 0);
    e.set();
    for (auto& child : children)
    {
        BOOST_REQUIRE(child.join(patience));
        BOOST_TEST(child.exitcode().value_or(-99) == 0);
    }
    BOOST_TEST(woken.get() == 4);
}

BOOST_AUTO_TEST_CASE(clear_lowers_the_flag_for_every_process)
{
    event e;
    e.set();
    BOOST_TEST(e.is_set());
    e.clear();
    BOOST_TEST(!e.is_set());
    BOOST_TEST(!e.wait(0s));

    e.set();
    shared_value<int> seen(-1);
    weft::process child({.start_method = start_method::spawn}, see_then_clear, e, seen);
    child.start();
    BOOST_REQUIRE(child.join(patience));
    BOOST_TEST(seen.get() == 1);
    BOOST_TEST(!e.is_set()); // the child's clear
    BOOST_TEST(!e.wait(20ms));
}

BOOST_AUTO_TEST_CASE(a_wait_that_times_out_returns_false)
{
    event e;
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(!e.wait(50ms));
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 50ms));
    BOOST_TEST(!e.wait(0s));
    BOOST_TEST(!e.is_set());
}

BOOST_AUTO_TEST_CASE(async_wait_while_another_process_sets_it)
{
    event e;
    weft::process child({.start_method = start_method::forkserver}, set_later, e, 200);
    child.start();
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
    auto main_task = [&]() -> weft::task<bool>
    {
        loop.spawn(ticker());
        co_await weft::with_timeout(patience, e.async_wait());
        co_return ticks >= 1 && e.is_set(); // the loop ran while the flag was down
    };
    BOOST_TEST(loop.run(main_task()));
    BOOST_REQUIRE(child.join(patience));

    // already set: returns at once
    auto again = [&]() -> weft::task<bool>
    {
        co_await weft::with_timeout(1s, e.async_wait());
        co_return true;
    };
    BOOST_TEST(loop.run(again()));
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
