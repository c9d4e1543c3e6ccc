#define BOOST_TEST_MODULE event_state
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/interprocess/detail/event_state.hpp"
#include "fork_support.hpp"

// The event state across fork() children and threads (CPython's lock_tests.py EventTests
// where they apply).

using namespace std::chrono_literals;
using weft::detail::event_state;
using weft::testing::asleep_in_futex;
using weft::testing::fork_child;
using weft::testing::no_stray_children;
using weft::testing::reap;
using weft::testing::shared;
using weft::testing::thread_asleep_in_futex;
using clock_type = std::chrono::steady_clock;

namespace
{

clock_type::time_point in(std::chrono::milliseconds d)
{
    return clock_type::now() + d;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(event, no_stray_children)

BOOST_AUTO_TEST_CASE(set_and_clear_toggle_the_flag) // test_is_set
{
    shared<event_state> ev;
    BOOST_TEST(!ev->is_set());
    ev->set();
    BOOST_TEST(ev->is_set());
    ev->set();
    BOOST_TEST(ev->is_set());
    BOOST_TEST(ev->wait(std::nullopt));
    BOOST_TEST(ev->wait(clock_type::now()));
    ev->clear();
    BOOST_TEST(!ev->is_set());
    ev->clear();
    BOOST_TEST(!ev->is_set());
    BOOST_TEST(!ev->wait(clock_type::now()));
}

BOOST_AUTO_TEST_CASE(wait_times_out_with_false) // test_timeout
{
    shared<event_state> ev;
    const auto start = clock_type::now();
    BOOST_TEST(!ev->wait(start + 80ms));
    BOOST_TEST((clock_type::now() - start >= 80ms));
}

BOOST_AUTO_TEST_CASE(set_wakes_waiters_in_every_process_and_thread) // test_notify
{
    shared<event_state> ev;
    std::vector<pid_t> children;
    for (int c = 0; c < 3; ++c)
    {
        children.push_back(fork_child([&] { return ev->wait(in(20s)) ? 0 : 1; }));
    }
    std::atomic<int> woken{0};
    std::atomic<pid_t> tid{0};
    std::thread waiter(
        [&]
        {
            tid.store(::gettid());
            woken += ev->wait(in(20s)) ? 1 : 0;
        });
    for (pid_t pid : children)
    {
        BOOST_TEST(asleep_in_futex(pid));
    }
    BOOST_TEST(weft::testing::soon([&] { return tid.load() != 0; }));
    BOOST_TEST(thread_asleep_in_futex(tid.load()));
    ev->set();
    waiter.join();
    for (pid_t pid : children)
    {
        BOOST_TEST(reap(pid) == 0);
    }
    BOOST_TEST(woken.load() == 1);
}

BOOST_AUTO_TEST_CASE(a_waiter_woken_by_set_returns_true_even_if_cleared_at_once)
{
    shared<event_state> ev;
    std::vector<pid_t> children;
    for (int c = 0; c < 3; ++c)
    {
        children.push_back(fork_child([&] { return ev->wait(in(20s)) ? 0 : 1; }));
    }
    for (pid_t pid : children)
    {
        BOOST_TEST(asleep_in_futex(pid));
    }
    ev->set();
    ev->clear();
    for (pid_t pid : children)
    {
        BOOST_TEST(reap(pid) == 0);
    }
    BOOST_TEST(!ev->is_set());
}

BOOST_AUTO_TEST_CASE(a_child_sets_what_the_parent_waits_for)
{
    shared<event_state> ev;
    const pid_t child = fork_child(
        [&]
        {
            ::usleep(30000);
            ev->set();
            return 0;
        });
    BOOST_TEST(ev->wait(in(20s)));
    BOOST_TEST(reap(child) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
