#define BOOST_TEST_MODULE event
#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/threads/bunch.hpp"

// Ports of CPython's Lib/test/lock_tests.py EventTests for weft::event.

using namespace std::chrono_literals;
using weft::testing::bunch;
using weft::testing::eventually;
using weft::testing::settle;
using weft::testing::timed;

BOOST_AUTO_TEST_CASE(set_and_clear_drive_is_set) // test_is_set
{
    weft::event evt;
    BOOST_TEST(!evt.is_set());
    evt.set();
    BOOST_TEST(evt.is_set());
    evt.set();
    BOOST_TEST(evt.is_set());
    evt.clear();
    BOOST_TEST(!evt.is_set());
    evt.clear();
    BOOST_TEST(!evt.is_set());
}

namespace
{

// CPython's _check_notify: every waiter blocked on the event returns true once it is set.
void check_notify(weft::event& evt)
{
    constexpr int n = 5;
    std::atomic<int> returned_true{0};
    std::atomic<int> returned{0};
    bunch b(n,
            [&](std::size_t)
            {
                if (evt.wait(weft::testing::hang_limit))
                {
                    returned_true.fetch_add(1);
                }
                returned.fetch_add(1);
            });
    BOOST_REQUIRE(b.wait_for_started());
    settle();
    BOOST_TEST(returned.load() == 0);
    evt.set();
    BOOST_REQUIRE(b.wait_for_finished());
    BOOST_TEST(returned_true.load() == n);
}

} // namespace

BOOST_AUTO_TEST_CASE(set_wakes_every_waiter) // test_notify
{
    weft::event evt;
    check_notify(evt);
    // Another turn after a reset.
    evt.set();
    evt.clear();
    check_notify(evt);
}

BOOST_AUTO_TEST_CASE(wait_timeout_returns_the_flag) // test_timeout
{
    weft::event evt;
    BOOST_TEST(!evt.wait(0s));
    bool result = true;
    const auto waited = timed([&] { result = evt.wait(200ms); });
    BOOST_TEST(!result);
    BOOST_TEST((waited >= 200ms));
    evt.set();
    BOOST_TEST(evt.wait(0s));
    BOOST_TEST(evt.wait(200ms));
    BOOST_TEST(evt.wait());
}

BOOST_AUTO_TEST_CASE(waiters_woken_by_set_return_true_even_if_cleared_at_once) // test_set_and_clear
{
    weft::event evt;
    constexpr int n = 5;
    std::atomic<int> returned_true{0};
    bunch b(n,
            [&](std::size_t)
            {
                if (evt.wait(1s))
                {
                    returned_true.fetch_add(1);
                }
            });
    BOOST_REQUIRE(b.wait_for_started());
    std::this_thread::sleep_for(250ms);
    evt.set();
    evt.clear();
    BOOST_REQUIRE(b.wait_for_finished());
    BOOST_TEST(returned_true.load() == n);
}

BOOST_AUTO_TEST_CASE(a_set_event_never_blocks_however_often_waited_on)
{
    weft::event evt;
    evt.set();
    for (int i = 0; i < 100; ++i)
    {
        BOOST_TEST(evt.wait(0s));
    }
    BOOST_TEST(evt.is_set());
}
