// interprocess::semaphore and bounded_semaphore: Python's multiprocessing.Semaphore and
// BoundedSemaphore. Ping-pong between two processes over two semaphore(0) (the seeds' program)
// under every start method, release(n) across processes, acquire timeouts, the awaitable acquire
// from an event loop while another process releases later, and Python's errors.
#define BOOST_TEST_MODULE interprocess_semaphore
#define BOOST_TEST_NO_MAIN
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../processes/pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::shared_array;
using weft::shared_value;
using weft::start_method;
using weft::interprocess::bounded_semaphore;
using weft::interprocess::semaphore;
using weft::test::all_methods;
using weft::test::patience;

namespace
{

constexpr int rounds = 200;

void append(shared_array<int> log, shared_value<int> length, int who)
{
    auto held = length.get_lock().guard();
    log.set(static_cast<std::size_t>(length.raw()), who);
    length.raw() += 1;
}

// The seeds' process_A: "ping", release sem1, wait for sem2.
void ping(semaphore sem1, semaphore sem2, shared_array<int> log, shared_value<int> length)
{
    for (int i = 0; i < rounds; ++i)
    {
        append(log, length, 1);
        sem1.release();
        if (!sem2.acquire(patience))
        {
            throw std::runtime_error("ping: no pong");
        }
    }
}

// The seeds' process_B: wait for sem1, "pong", release sem2.
void pong(semaphore sem1, semaphore sem2, shared_array<int> log, shared_value<int> length)
{
    for (int i = 0; i < rounds; ++i)
    {
        if (!sem1.acquire(patience))
        {
            throw std::runtime_error("pong: no ping");
        }
        append(log, length, 2);
        sem2.release();
    }
}

void take_one_and_count(semaphore s, shared_value<int> taken)
{
    if (s.acquire(patience))
    {
        auto held = taken.get_lock().guard();
        taken.raw() += 1;
    }
}

void release_later(semaphore s, int delay_ms, int n)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    s.release(static_cast<std::size_t>(n));
}

// 1: the child's over-release of a bounded semaphore threw invalid_state_error.
void over_release(bounded_semaphore s, shared_value<int> threw)
{
    try
    {
        s.release();
        threw.set(0);
    }
    catch (const weft::invalid_state_error&)
    {
        threw.set(1);
    }
}

// Polls `ready` until it holds or patience runs out.
template <class Ready>
bool eventually(Ready ready)
{
    const auto until = std::chrono::steady_clock::now() + patience;
    while (!ready())
    {
        if (std::chrono::steady_clock::now() >= until)
        {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

} // namespace

BOOST_AUTO_TEST_CASE(ping_pong_between_two_processes_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT("start method " << static_cast<int>(method))
        {
            semaphore sem1(0);
            semaphore sem2(0);
            shared_array<int> log(2 * rounds);
            shared_value<int> length(0);
            weft::process a({.start_method = method}, ping, sem1, sem2, log, length);
            weft::process b({.start_method = method}, pong, sem1, sem2, log, length);
            a.start();
            b.start();
            BOOST_REQUIRE(a.join(patience));
            BOOST_REQUIRE(b.join(patience));
            BOOST_TEST(a.exitcode().value_or(-99) == 0);
            BOOST_TEST(b.exitcode().value_or(-99) == 0);
            BOOST_TEST(length.get() == 2 * rounds);
            // strictly alternating: ping never runs ahead of pong, nor pong of ping
            std::vector<int> expected;
            for (int i = 0; i < rounds; ++i)
            {
                expected.push_back(1);
                expected.push_back(2);
            }
            BOOST_TEST(log.to_vector() == expected, boost::test_tools::per_element());
            BOOST_TEST(sem1.value() == 0U);
            BOOST_TEST(sem2.value() == 0U);
        }
    }
}

BOOST_AUTO_TEST_CASE(release_n_adds_n_permits_and_wakes_up_to_n_processes)
{
    semaphore s(0);
    shared_value<int> taken(0);
    std::vector<weft::process> children;
    for (int i = 0; i < 4; ++i)
    {
        children.emplace_back(weft::process::options{.start_method = start_method::fork},
                              take_one_and_count, s, taken);
        children.back().start();
    }
    std::this_thread::sleep_for(50ms); // let them sleep on it
    BOOST_TEST(taken.get() == 0);
    s.release(3);
    BOOST_TEST(eventually([&] { return taken.get() == 3; }));
    std::this_thread::sleep_for(100ms);
    BOOST_TEST(taken.get() == 3); // not a fourth
    BOOST_TEST(s.value() == 0U);
    s.release();
    for (auto& child : children)
    {
        BOOST_REQUIRE(child.join(patience));
        BOOST_TEST(child.exitcode().value_or(-99) == 0);
    }
    BOOST_TEST(taken.get() == 4);

    semaphore many(0);
    many.release(5);
    BOOST_TEST(many.value() == 5U);
    many.release(); // beyond the initial value: allowed for a plain semaphore
    BOOST_TEST(many.value() == 6U);
    BOOST_CHECK_THROW(many.release(0), std::invalid_argument);
    BOOST_TEST(many.value() == 6U);
}

BOOST_AUTO_TEST_CASE(acquire_timeouts)
{
    semaphore s(0);
    auto start = std::chrono::steady_clock::now();
    BOOST_TEST(!s.acquire(50ms));
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 50ms));
    BOOST_TEST(!s.acquire(false));
    BOOST_TEST(!s.acquire(0s));
    BOOST_CHECK_THROW((void)s.acquire(false, 1s), std::invalid_argument);

    // a release by another process within the timeout ends the wait
    weft::process child({.start_method = start_method::forkserver}, release_later, s, 100, 1);
    child.start();
    start = std::chrono::steady_clock::now();
    BOOST_TEST(s.acquire(patience));
    BOOST_TEST((std::chrono::steady_clock::now() - start < patience));
    BOOST_REQUIRE(child.join(patience));
    BOOST_TEST(s.value() == 0U);

    s.release();
    BOOST_TEST(s.acquire(0s)); // a permit there: taken without waiting
    BOOST_TEST(s.try_lock() == false);
    s.unlock();
    BOOST_TEST(s.try_lock());
}

BOOST_AUTO_TEST_CASE(async_acquire_while_another_process_releases_later)
{
    semaphore s(0);
    weft::process child({.start_method = start_method::forkserver}, release_later, s, 200, 1);
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
        co_await weft::with_timeout(patience, s.async_acquire());
        co_return ticks >= 1; // the loop ran while the semaphore was empty
    };
    BOOST_TEST(loop.run(main_task()));
    BOOST_TEST(s.value() == 0U);
    BOOST_REQUIRE(child.join(patience));
}

BOOST_AUTO_TEST_CASE(a_cancelled_async_acquire_takes_nothing)
{
    semaphore s(0);
    weft::event_loop loop;
    auto main_task = [&]() -> weft::task<bool>
    {
        bool timed_out = false;
        try
        {
            co_await weft::with_timeout(30ms, s.async_acquire());
        }
        catch (const weft::timeout_error&)
        {
            timed_out = true;
        }
        co_return timed_out;
    };
    BOOST_TEST(loop.run(main_task()));
    s.release();
    BOOST_TEST(s.value() == 1U);
    BOOST_TEST(s.acquire(0s));
}

BOOST_AUTO_TEST_CASE(bounded_semaphore_over_release_throws)
{
    bounded_semaphore b(2);
    BOOST_TEST(b.acquire(0s));
    b.release();
    BOOST_CHECK_THROW(b.release(), weft::invalid_state_error);
    BOOST_TEST(b.value() == 2U); // nothing added
    BOOST_TEST(b.acquire(0s));
    BOOST_CHECK_THROW(b.release(2), weft::invalid_state_error);
    BOOST_TEST(b.value() == 1U);

    shared_value<int> threw(-1);
    weft::process child({.start_method = start_method::spawn}, over_release, b, threw);
    child.start(); // one permit is out: the child's release fits
    BOOST_REQUIRE(child.join(patience));
    BOOST_TEST(threw.get() == 0);
    BOOST_TEST(b.value() == 2U);
    threw.set(-1);
    weft::process again({.start_method = start_method::spawn}, over_release, b, threw);
    again.start(); // full: the child's release is one too many
    BOOST_REQUIRE(again.join(patience));
    BOOST_TEST(threw.get() == 1);
    BOOST_TEST(b.value() == 2U);

    bounded_semaphore zero(0);
    BOOST_CHECK_THROW(zero.release(), weft::invalid_state_error);
    BOOST_TEST(zero.value() == 0U);
}

BOOST_AUTO_TEST_CASE(a_negative_initial_value_throws)
{
    BOOST_CHECK_THROW((void)semaphore(-1), std::invalid_argument);
    BOOST_CHECK_THROW((void)bounded_semaphore(-1), std::invalid_argument);
    BOOST_CHECK_NO_THROW((void)semaphore(0));
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
