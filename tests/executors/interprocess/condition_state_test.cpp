#define BOOST_TEST_MODULE condition_state
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/interprocess/detail/condition_state.hpp"
#include "executors/interprocess/detail/robust_mutex_state.hpp"
#include "fork_support.hpp"

// The condition state across fork() children and threads (CPython's lock_tests.py
// ConditionTests and multiprocessing's _TestCondition where they apply: test_notify_n,
// test_wait_result), plus waiters that die.

using namespace std::chrono_literals;
using weft::detail::condition_state;
using weft::detail::robust_mutex_state;
using weft::testing::asleep_in_futex;
using weft::testing::fork_child;
using weft::testing::no_stray_children;
using weft::testing::reap;
using weft::testing::shared;
using weft::testing::soon;
using clock_type = std::chrono::steady_clock;

namespace
{

clock_type::time_point in(std::chrono::milliseconds d)
{
    return clock_type::now() + d;
}

// The user lock as condition_state sees it, over an rlock state (Python's default).
struct user_lock
{
    robust_mutex_state& state;
    std::uint32_t release_all() { return state.release_all(); }
    void restore(std::uint32_t count) { (void)state.acquire_restore(count, std::nullopt); }
};

struct shared_condition
{
    robust_mutex_state lock{true};
    condition_state cond;
    std::atomic<std::uint32_t> woken{0};
    std::atomic<std::int32_t> order[8] = {}; // order[k] = index of the k-th waiter woken, + 1

    // A waiter: waits with the lock held, records when it got through; 0 if notified.
    int wait_once(int index, std::chrono::milliseconds limit)
    {
        if (!lock.acquire(in(20s)).acquired)
        {
            return 2;
        }
        user_lock l{lock};
        const bool notified = cond.wait(l, in(limit));
        if (!lock.is_owned())
        {
            return 3;
        }
        if (notified)
        {
            order[woken.fetch_add(1)].store(index + 1);
        }
        lock.release();
        return notified ? 0 : 1;
    }

    std::uint32_t waiting()
    {
        (void)lock.acquire(std::nullopt);
        const std::uint32_t n = cond.n_waiting();
        lock.release();
        return n;
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(condition, no_stray_children)

BOOST_AUTO_TEST_CASE(notify_2_wakes_exactly_2_of_5_waiting_processes_oldest_first) // test_notify_n
{
    shared<shared_condition> s;
    std::vector<pid_t> children;
    for (int c = 0; c < 5; ++c)
    {
        // One at a time, each asleep before the next comes: their arrival order is known.
        children.push_back(fork_child([&s, c] { return s->wait_once(c, 30s); }));
        BOOST_TEST(asleep_in_futex(children.back()));
    }
    BOOST_TEST(s->waiting() == 5u);
    (void)s->lock.acquire(std::nullopt);
    s->cond.notify(2);
    s->lock.release();
    BOOST_TEST(soon([&] { return s->woken.load() == 2; }));
    std::this_thread::sleep_for(100ms); // a third would have come through by now
    BOOST_TEST(s->woken.load() == 2u);
    BOOST_TEST(s->waiting() == 3u);
    // The two oldest, in either order (both were woken at once).
    BOOST_TEST(s->order[0].load() + s->order[1].load() == 1 + 2);
    BOOST_TEST(s->order[0].load() * s->order[1].load() == 1 * 2);
    BOOST_TEST(reap(children[0]) == 0);
    BOOST_TEST(reap(children[1]) == 0);

    (void)s->lock.acquire(std::nullopt);
    s->cond.notify_all();
    s->lock.release();
    for (std::size_t c = 2; c < children.size(); ++c)
    {
        BOOST_TEST(reap(children[c]) == 0);
    }
    BOOST_TEST(s->woken.load() == 5u);
    BOOST_TEST(s->waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(notify_wakes_one_at_a_time_in_arrival_order)
{
    shared<shared_condition> s;
    std::vector<pid_t> children;
    for (int c = 0; c < 3; ++c)
    {
        children.push_back(fork_child([&s, c] { return s->wait_once(c, 30s); }));
        BOOST_TEST(asleep_in_futex(children.back()));
    }
    for (std::uint32_t k = 0; k < 3; ++k)
    {
        (void)s->lock.acquire(std::nullopt);
        s->cond.notify(1);
        s->lock.release();
        BOOST_TEST(soon([&] { return s->woken.load() == k + 1; }));
        BOOST_TEST(s->order[k].load() == static_cast<std::int32_t>(k + 1));
        BOOST_TEST(reap(children[k]) == 0);
    }
}

BOOST_AUTO_TEST_CASE(wait_times_out_with_false_and_the_lock_held_as_before) // test_wait_result
{
    shared<shared_condition> s;
    (void)s->lock.acquire(std::nullopt);
    (void)s->lock.acquire(std::nullopt);
    user_lock l{s->lock};
    const auto start = clock_type::now();
    BOOST_TEST(!s->cond.wait(l, start + 80ms));
    BOOST_TEST((clock_type::now() - start >= 80ms));
    BOOST_TEST(s->lock.is_owned());
    BOOST_TEST(s->lock.recursion_count() == 2u);
    BOOST_TEST(s->cond.n_waiting() == 0u);
    s->cond.notify(1); // nobody waits: nothing happens
    BOOST_TEST(!s->cond.wait(l, clock_type::now()));
    s->lock.release();
    s->lock.release();
    BOOST_TEST(!s->lock.locked());
}

BOOST_AUTO_TEST_CASE(the_lock_is_free_while_a_child_waits)
{
    shared<shared_condition> s;
    const pid_t child = fork_child([&] { return s->wait_once(0, 30s); });
    BOOST_TEST(asleep_in_futex(child));
    BOOST_TEST(!s->lock.locked());
    BOOST_TEST(s->lock.acquire(clock_type::now()).acquired);
    s->cond.notify(1);
    // The waiter is woken but cannot return before we let go of the lock.
    std::this_thread::sleep_for(50ms);
    BOOST_TEST(s->woken.load() == 0u);
    s->lock.release();
    BOOST_TEST(reap(child) == 0);
    BOOST_TEST(s->woken.load() == 1u);
}

BOOST_AUTO_TEST_CASE(a_killed_waiter_does_not_absorb_a_notification)
{
    shared<shared_condition> s;
    const pid_t doomed = fork_child([&] { return s->wait_once(0, 30s); });
    BOOST_TEST(asleep_in_futex(doomed));
    const pid_t survivor = fork_child([&] { return s->wait_once(1, 30s); });
    BOOST_TEST(asleep_in_futex(survivor));
    ::kill(doomed, SIGKILL);
    // Not reaped: a zombie still answers kill(pid, 0), so liveness must come from elsewhere.
    BOOST_TEST(weft::testing::is_zombie(doomed));
    BOOST_TEST(s->waiting() == 1u);
    (void)s->lock.acquire(std::nullopt);
    s->cond.notify(1); // the oldest waiter is dead: the survivor gets it
    s->lock.release();
    BOOST_TEST(reap(survivor) == 0);
    BOOST_TEST(s->order[0].load() == 2);
    BOOST_TEST(reap(doomed) == 128 + SIGKILL);
    // The dead waiter's slot is free again, and works.
    const pid_t next = fork_child([&] { return s->wait_once(2, 30s); });
    BOOST_TEST(asleep_in_futex(next));
    (void)s->lock.acquire(std::nullopt);
    s->cond.notify_all();
    s->lock.release();
    BOOST_TEST(reap(next) == 0);
}

BOOST_AUTO_TEST_CASE(threads_and_processes_wait_together)
{
    shared<shared_condition> s;
    const pid_t child = fork_child([&] { return s->wait_once(0, 30s); });
    BOOST_TEST(asleep_in_futex(child));
    std::atomic<int> thread_results{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
    {
        threads.emplace_back([&s, &thread_results, t]
                             { thread_results += s->wait_once(t + 1, 30s) == 0 ? 1 : 0; });
    }
    BOOST_TEST(soon([&] { return s->waiting() == 4u; }));
    (void)s->lock.acquire(std::nullopt);
    s->cond.notify_all();
    s->lock.release();
    for (auto& t : threads)
    {
        t.join();
    }
    BOOST_TEST(reap(child) == 0);
    BOOST_TEST(thread_results.load() == 3);
    BOOST_TEST(s->woken.load() == 4u);
}

BOOST_AUTO_TEST_CASE(waiters_past_the_slot_count_get_a_clear_error)
{
    shared<shared_condition> s;
    constexpr std::uint32_t n = condition_state::max_waiters;
    std::atomic<std::uint32_t> notified{0};
    std::vector<std::thread> threads;
    for (std::uint32_t t = 0; t < n; ++t)
    {
        threads.emplace_back(
            [&]
            {
                (void)s->lock.acquire(std::nullopt);
                user_lock l{s->lock};
                notified += s->cond.wait(l, in(60s)) ? 1 : 0;
                s->lock.release();
            });
    }
    BOOST_TEST(soon([&] { return s->waiting() == n; }, 60s));
    (void)s->lock.acquire(std::nullopt);
    user_lock l{s->lock};
    std::string message;
    try
    {
        (void)s->cond.wait(l, in(10s));
    }
    catch (const weft::invalid_state_error& e)
    {
        message = e.what();
    }
    BOOST_TEST(message == "weft: interprocess::condition: too many waiters (at most 256)");
    BOOST_TEST(s->lock.is_owned()); // the lock was not released
    s->cond.notify_all();
    s->lock.release();
    for (auto& t : threads)
    {
        t.join();
    }
    BOOST_TEST(notified.load() == n);
}

BOOST_AUTO_TEST_SUITE_END()
