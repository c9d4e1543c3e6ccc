// interprocess::condition: Python's multiprocessing.Condition. Producer and consumer processes
// with wait_for(pred) (every start method), notify(2) waking exactly 2 of 5 waiting processes
// and notify_all the rest, Python's errors without the lock, wait(timeout) false, and a
// condition over an external interprocess::lock.
#define BOOST_TEST_MODULE interprocess_condition
#define BOOST_TEST_NO_MAIN
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../processes/pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::shared_value;
using weft::start_method;
using weft::interprocess::condition;
using weft::test::all_methods;
using weft::test::patience;

namespace
{

constexpr int items = 300;

// Both guarded by the condition's lock: the items waiting, and the items consumed.
void produce(condition c, shared_value<int> queued)
{
    for (int i = 0; i < items; ++i)
    {
        auto held = c.guard();
        queued.raw() += 1;
        c.notify();
    }
}

void consume(condition c, shared_value<int> queued, shared_value<int> consumed)
{
    for (int i = 0; i < items; ++i)
    {
        auto held = c.guard();
        if (!c.wait_for([&] { return queued.raw() > 0; }, patience))
        {
            throw std::runtime_error("consume: nothing came");
        }
        queued.raw() -= 1;
        consumed.raw() += 1;
    }
}

// Counts itself as waiting, waits; counts itself as woken when notified (not timed out).
void wait_to_be_notified(condition c, shared_value<int> waiting, shared_value<int> woken)
{
    auto held = c.guard();
    waiting.raw() += 1;
    if (c.wait(patience))
    {
        woken.raw() += 1;
    }
}

// With the external lock: says it is in (state 1, under the lock) and waits until a holder of
// the same lock moves the state to 2.
void wait_for_state_2(condition c, shared_value<int> state, shared_value<int> result)
{
    auto held = c.guard();
    state.raw() = 1;
    result.set(c.wait_for([&] { return state.raw() == 2; }, patience) ? 1 : 0);
}

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

BOOST_AUTO_TEST_CASE(producer_and_consumer_processes_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT("start method " << static_cast<int>(method))
        {
            condition c;
            shared_value<int> queued(0, {.lock = false});
            shared_value<int> consumed(0, {.lock = false});
            weft::process consumer({.start_method = method}, consume, c, queued, consumed);
            weft::process producer({.start_method = method}, produce, c, queued);
            consumer.start();
            producer.start();
            BOOST_REQUIRE(consumer.join(patience));
            BOOST_REQUIRE(producer.join(patience));
            BOOST_TEST(consumer.exitcode().value_or(-99) == 0);
            BOOST_TEST(producer.exitcode().value_or(-99) == 0);
            BOOST_TEST(consumed.raw() == items);
            BOOST_TEST(queued.raw() == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(notify_2_wakes_exactly_2_of_5_processes_and_notify_all_the_rest)
{
    condition c;
    shared_value<int> waiting(0, {.lock = false});
    shared_value<int> woken(0, {.lock = false});
    std::vector<weft::process> children;
    for (int i = 0; i < 5; ++i)
    {
        children.emplace_back(weft::process::options{.start_method = start_method::forkserver},
                              wait_to_be_notified, c, waiting, woken);
        children.back().start();
    }
    const auto under_lock = [&](auto read)
    {
        auto held = c.guard();
        return read();
    };
    // Counted under the lock, which each one holds until its wait releases it: 5 means all wait.
    BOOST_REQUIRE(eventually([&] { return under_lock([&] { return waiting.raw(); }) == 5; }));
    {
        auto held = c.guard();
        c.notify(2);
    }
    BOOST_TEST(eventually([&] { return under_lock([&] { return woken.raw(); }) == 2; }));
    std::this_thread::sleep_for(200ms);
    BOOST_TEST(under_lock([&] { return woken.raw(); }) == 2); // not a third
    {
        auto held = c.guard();
        c.notify_all();
    }
    for (auto& child : children)
    {
        BOOST_REQUIRE(child.join(patience));
        BOOST_TEST(child.exitcode().value_or(-99) == 0);
    }
    BOOST_TEST(woken.raw() == 5);
}

BOOST_AUTO_TEST_CASE(wait_and_notify_without_the_lock_throw)
{
    condition c;
    BOOST_CHECK_THROW((void)c.wait_for([] { return false; }, 10ms), weft::invalid_state_error);
    BOOST_CHECK_THROW((void)c.wait(10ms), weft::invalid_state_error);
    BOOST_CHECK_THROW(c.notify(), weft::invalid_state_error);
    BOOST_CHECK_THROW(c.notify_all(), weft::invalid_state_error);
    // held by another thread is not held by this one
    auto held = c.guard();
    std::thread other([&] { BOOST_CHECK_THROW((void)c.wait(10ms), weft::invalid_state_error); });
    other.join();
}

BOOST_AUTO_TEST_CASE(wait_with_a_timeout_returns_false_and_keeps_the_lock)
{
    condition c;
    auto held = c.guard();
    auto nested = c.guard(); // its own lock is an rlock: two levels
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(!c.wait(50ms));
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 50ms));
    BOOST_TEST(!c.wait_for([] { return false; }, 30ms));
    int calls = 0;
    BOOST_TEST(c.wait_for([&] { return ++calls > 0; }, 30ms)); // true at once: no wait
    BOOST_TEST(calls == 1);
    // re-acquired as deep as before: two releases needed, then a third throws
    nested.release();
    held.release();
    BOOST_CHECK_THROW(c.release(), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(a_condition_over_an_external_lock)
{
    weft::interprocess::lock l;
    condition c(l);
    {
        auto held = c.guard();
        BOOST_TEST(l.locked()); // the condition's lock is l
    }
    BOOST_TEST(!l.locked());
    {
        auto held = l.guard(); // and l is the condition's lock: notify is allowed
        BOOST_CHECK_NO_THROW(c.notify());
    }

    shared_value<int> state(0, {.lock = false});
    shared_value<int> result(-1);
    weft::process child({.start_method = start_method::spawn}, wait_for_state_2, c, state, result);
    child.start();
    // The child sets state 1 holding l and keeps it until its wait releases it: l taken here
    // with state 1 seen means the wait released the external lock.
    BOOST_REQUIRE(eventually(
        [&]
        {
            auto held = l.guard();
            if (state.raw() != 1)
            {
                return false;
            }
            state.raw() = 2;
            c.notify();
            return true;
        }));
    BOOST_REQUIRE(child.join(patience));
    BOOST_TEST(child.exitcode().value_or(-99) == 0);
    BOOST_TEST(result.get() == 1);
    BOOST_TEST(!l.locked());
    BOOST_CHECK_THROW((void)c.wait(1ms), weft::invalid_state_error);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
