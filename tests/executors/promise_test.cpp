#define BOOST_TEST_MODULE promise
// The producer side: one outcome per future, Python's set_running_or_notify_cancel, and no waiter
// left hanging by a promise that goes away.
#include <chrono>
#include <stdexcept>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
using weft::future;
using weft::promise;

BOOST_AUTO_TEST_CASE(set_running_or_notify_cancel_reports_cancellation_and_refuses_other_states)
{
    promise<int> cancelled;
    cancelled.get_future().cancel();
    BOOST_TEST(!cancelled.set_running_or_notify_cancel());

    promise<int> running;
    BOOST_TEST(running.set_running_or_notify_cancel());
    BOOST_CHECK_THROW(running.set_running_or_notify_cancel(), weft::invalid_state_error);

    promise<int> finished;
    finished.set_result(1);
    BOOST_CHECK_THROW(finished.set_running_or_notify_cancel(), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(setting_a_result_twice_is_an_invalid_state_error)
{
    promise<int> p;
    p.set_result(1);
    BOOST_CHECK_THROW(p.set_result(2), weft::invalid_state_error);
    BOOST_CHECK_THROW(p.set_exception(std::make_exception_ptr(std::runtime_error("x"))),
                      weft::invalid_state_error);
    BOOST_TEST(p.get_future().result() == 1);
}

BOOST_AUTO_TEST_CASE(setting_an_exception_twice_is_an_invalid_state_error)
{
    promise<int> p;
    p.set_exception(std::make_exception_ptr(std::runtime_error("x")));
    BOOST_CHECK_THROW(p.set_exception(std::make_exception_ptr(std::runtime_error("y"))),
                      weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(setting_a_result_on_a_cancelled_future_is_an_invalid_state_error)
{
    promise<int> p;
    p.get_future().cancel();
    BOOST_CHECK_THROW(p.set_result(1), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(a_destroyed_promise_breaks_its_pending_future)
{
    future<int> f;
    {
        promise<int> p;
        f = p.get_future();
    }
    BOOST_CHECK_THROW(f.result(0ms), weft::broken_promise);
}

BOOST_AUTO_TEST_CASE(a_moved_from_promise_refuses_calls_and_the_target_keeps_the_state)
{
    promise<int> a;
    future<int> f = a.get_future();
    promise<int> b = std::move(a);
    BOOST_CHECK_THROW(a.set_result(1),
                      weft::invalid_state_error); // NOLINT(bugprone-use-after-move)
    b.set_result(2);
    BOOST_TEST(f.result() == 2);
}

BOOST_AUTO_TEST_CASE(move_assigning_over_a_promise_breaks_the_future_it_held)
{
    promise<int> a;
    future<int> abandoned = a.get_future();
    a = promise<int>();
    BOOST_CHECK_THROW(abandoned.result(0ms), weft::broken_promise);
}
