#define BOOST_TEST_MODULE wait
// CPython's WaitTests: wait(futures, return_when, timeout) -> (done, not_done).
#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
using weft::future;
using weft::promise;
using weft::return_when;

namespace
{

bool contains(const std::vector<future<int>>& fs, const future<int>& f)
{
    return std::find(fs.begin(), fs.end(), f) != fs.end();
}

// Runs `fn` on another thread after `delay`; joined at scope exit.
template <class F>
std::jthread later(std::chrono::milliseconds delay, F fn)
{
    return std::jthread(
        [delay, fn]() mutable
        {
            std::this_thread::sleep_for(delay);
            fn();
        });
}

} // namespace

BOOST_AUTO_TEST_CASE(first_completed_returns_when_one_finishes)
{
    promise<int> slow, fast;
    auto setter = later(30ms, [&] { fast.set_result(1); });
    auto r = weft::wait(std::vector{slow.get_future(), fast.get_future()},
                        {.when = return_when::first_completed, .timeout = 10s});
    BOOST_TEST(r.done.size() == 1U);
    BOOST_TEST(contains(r.done, fast.get_future()));
    BOOST_TEST(contains(r.not_done, slow.get_future()));
}

BOOST_AUTO_TEST_CASE(first_completed_returns_at_once_when_some_are_already_done)
{
    promise<int> pending, done;
    done.set_result(1);
    auto start = std::chrono::steady_clock::now();
    auto r = weft::wait(std::vector{pending.get_future(), done.get_future()},
                        {.when = return_when::first_completed});
    BOOST_TEST((std::chrono::steady_clock::now() - start < 1s));
    BOOST_TEST(contains(r.done, done.get_future()));
    BOOST_TEST(contains(r.not_done, pending.get_future()));
}

BOOST_AUTO_TEST_CASE(first_exception_returns_when_one_fails)
{
    promise<int> ok, failing, pending;
    ok.set_result(1);
    auto setter = later(
        30ms, [&] { failing.set_exception(std::make_exception_ptr(std::runtime_error("x"))); });
    auto r = weft::wait(std::vector{ok.get_future(), failing.get_future(), pending.get_future()},
                        {.when = return_when::first_exception, .timeout = 10s});
    BOOST_TEST(r.done.size() == 2U);
    BOOST_TEST(contains(r.done, failing.get_future()));
    BOOST_TEST(contains(r.not_done, pending.get_future()));
}

BOOST_AUTO_TEST_CASE(first_exception_returns_at_once_when_one_already_failed)
{
    promise<int> failed, pending;
    failed.set_exception(std::make_exception_ptr(std::runtime_error("x")));
    auto r = weft::wait(std::vector{failed.get_future(), pending.get_future()},
                        {.when = return_when::first_exception, .timeout = 10s});
    BOOST_TEST(contains(r.done, failed.get_future()));
    BOOST_TEST(contains(r.not_done, pending.get_future()));
}

BOOST_AUTO_TEST_CASE(first_exception_waits_for_all_when_nothing_fails)
{
    promise<int> a, b;
    a.set_result(1);
    auto setter = later(30ms, [&] { b.set_result(2); });
    auto r = weft::wait(std::vector{a.get_future(), b.get_future()},
                        {.when = return_when::first_exception, .timeout = 10s});
    BOOST_TEST(r.done.size() == 2U);
    BOOST_TEST(r.not_done.empty());
}

BOOST_AUTO_TEST_CASE(first_exception_does_not_count_a_cancelled_future_as_failed)
{
    promise<int> cancelled, pending;
    cancelled.get_future().cancel();
    auto r = weft::wait(std::vector{cancelled.get_future(), pending.get_future()},
                        {.when = return_when::first_exception, .timeout = 50ms});
    BOOST_TEST(contains(r.done, cancelled.get_future()));
    BOOST_TEST(contains(r.not_done, pending.get_future()));
}

BOOST_AUTO_TEST_CASE(all_completed_waits_for_every_future)
{
    promise<int> a, b, c;
    a.set_result(1);
    b.get_future().cancel();
    auto setter =
        later(30ms, [&] { c.set_exception(std::make_exception_ptr(std::logic_error("x"))); });
    auto r = weft::wait(std::vector{a.get_future(), b.get_future(), c.get_future()});
    BOOST_TEST(r.done.size() == 3U);
    BOOST_TEST(r.not_done.empty());
}

BOOST_AUTO_TEST_CASE(a_timeout_returns_what_is_done_without_throwing)
{
    promise<int> done, pending;
    done.set_result(1);
    auto start = std::chrono::steady_clock::now();
    auto r = weft::wait(std::vector{done.get_future(), pending.get_future()},
                        {.when = return_when::all_completed, .timeout = 60ms});
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 60ms));
    BOOST_TEST(contains(r.done, done.get_future()));
    BOOST_TEST(contains(r.not_done, pending.get_future()));
}

BOOST_AUTO_TEST_CASE(duplicates_are_reported_once)
{
    promise<int> p;
    p.set_result(1);
    future<int> f = p.get_future();
    auto r = weft::wait(std::vector{f, f, f});
    BOOST_TEST(r.done.size() == 1U);
}

BOOST_AUTO_TEST_CASE(an_empty_list_returns_two_empty_lists)
{
    auto r = weft::wait(std::vector<future<int>>{}, {.when = return_when::first_completed});
    BOOST_TEST(r.done.empty());
    BOOST_TEST(r.not_done.empty());
}

BOOST_AUTO_TEST_CASE(an_unknown_return_condition_is_an_invalid_argument)
{
    BOOST_CHECK_THROW(weft::wait(std::vector<future<int>>{}, {.when = static_cast<return_when>(9)}),
                      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_timed_out_wait_leaves_no_callback_behind)
{
    // Python's test_20369 and the pending-calls race: repeated waits on one pending future must
    // not pile up registrations; the later completion still reaches its own callback once.
    promise<int> p;
    future<int> f = p.get_future();
    for (int i = 0; i < 1000; ++i)
    {
        (void)weft::wait(std::vector{f}, {.timeout = 0ms});
    }
    int calls = 0;
    f.add_done_callback([&](const future<int>&) { ++calls; });
    p.set_result(1);
    BOOST_TEST(calls == 1);
}
