// interprocess::lock: mutual exclusion across processes it was passed to (every start method),
// a holder SIGKILLed while holding it (the next acquirer is told, under every start method),
// Python's errors, and the awaitable acquire from an event loop.
#define BOOST_TEST_MODULE interprocess_lock
#define BOOST_TEST_NO_MAIN
#include <chrono>
#include <csignal>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../processes/pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::shared_value;
using weft::start_method;
using weft::interprocess::lock;
using weft::test::all_methods;
using weft::test::patience;

namespace
{

void add_under_lock(lock l, shared_value<std::int64_t> counter, int times)
{
    for (int i = 0; i < times; ++i)
    {
        auto held = l.guard();
        const std::int64_t seen = counter.raw();
        counter.raw() = seen + 1; // a lost update shows if the lock does not exclude
    }
}

void hold_and_hang(lock l, weft::interprocess::event holding)
{
    (void)l.acquire();
    holding.set();
    std::this_thread::sleep_for(60s);
}

} // namespace

BOOST_AUTO_TEST_CASE(excludes_across_processes_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        lock l;
        shared_value<std::int64_t> counter(0, {.lock = false});
        weft::process a({.start_method = method}, add_under_lock, l, counter, 20000);
        weft::process b({.start_method = method}, add_under_lock, l, counter, 20000);
        a.start();
        b.start();
        add_under_lock(l, counter, 20000);
        a.join(patience);
        b.join(patience);
        BOOST_TEST(counter.get() == 60000);
        BOOST_TEST(!l.locked());
    }
}

BOOST_AUTO_TEST_CASE(a_holder_killed_while_holding_it_does_not_leave_it_held)
{
    for (const start_method method : all_methods)
    {
        lock l;
        weft::interprocess::event holding;
        weft::process child({.start_method = method}, hold_and_hang, l, holding);
        child.start();
        BOOST_REQUIRE(holding.wait(patience));
        BOOST_TEST(l.locked());
        BOOST_TEST(!l.acquire(50ms)); // really held by the child
        child.kill();
        child.join(patience);
        const weft::interprocess::acquired got = l.acquire(patience);
        BOOST_TEST(static_cast<bool>(got));
        BOOST_TEST(got.owner_died());
        l.release();
        const auto again = l.acquire(0s); // consistent again: a plain acquire now
        BOOST_TEST(static_cast<bool>(again));
        BOOST_TEST(!again.owner_died());
        l.release();
    }
}

BOOST_AUTO_TEST_CASE(pythons_errors)
{
    lock l;
    BOOST_CHECK_THROW(l.release(), weft::invalid_state_error); // release unlocked lock
    BOOST_TEST(static_cast<bool>(l.acquire()));
    BOOST_TEST(!l.acquire(20ms)); // not recursive
    std::thread other([&] { BOOST_CHECK_THROW(l.release(), weft::invalid_state_error); });
    other.join();
    BOOST_CHECK_THROW((void)l.acquire(false, 1s), std::invalid_argument);
    l.release();
    BOOST_TEST(!l.locked());
}

BOOST_AUTO_TEST_CASE(async_acquire_does_not_block_the_loop)
{
    lock l;
    weft::interprocess::event holding;
    weft::process child(
        {.start_method = start_method::forkserver},
        +[](lock l, weft::interprocess::event holding)
        {
            (void)l.acquire();
            holding.set();
            std::this_thread::sleep_for(200ms);
            l.release();
        },
        l, holding);
    child.start();
    BOOST_REQUIRE(holding.wait(patience));
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
        const auto got = co_await l.async_acquire();
        const bool ok = got && ticks >= 1; // the loop ran while the child held the lock
        l.release();
        co_return ok;
    };
    BOOST_TEST(loop.run(main_task()));
    child.join(patience);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
