// weft::pool, Python's multiprocessing.Pool: map/starmap (default chunksize), map_async,
// imap/imap_unordered, apply/apply_async with callbacks, initializer + maxtasksperchild, and
// close/terminate/join, each under the three start methods (the argument check aside).
#define BOOST_TEST_MODULE pool
#define BOOST_TEST_NO_MAIN
#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <ranges>
#include <set>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::pool;
using weft::start_method;
using weft::worker_initializer;
using weft::test::all_methods;
using weft::test::patience;
using weft::test::zombie_children;

namespace
{

int f(int x)
{
    return x * x;
}

// For an endless input: the calls run ahead of the consumer (a window of up to 32,768 per
// worker) pass 46,340, whose square overflows int (UBSan aborts the worker then, each time).
int successor(int x)
{
    return x + 1;
}

int times(int x, int y, int z)
{
    return x * y * z;
}

int fail_on_three(int x)
{
    if (x == 3)
    {
        throw std::out_of_range("three");
    }
    return x;
}

int slow_square(int x)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(x % 7));
    return x * x;
}

int sleep_ms(int ms)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
}

pid_t g_initialized_in = 0;

void init(pid_t)
{
    g_initialized_in = ::getpid();
}

// (worker pid, pid the initializer ran in)
std::pair<pid_t, pid_t> whoami(int)
{
    return {::getpid(), g_initialized_in};
}

} // namespace

BOOST_AUTO_TEST_CASE(map_of_squares_as_the_seed_writes_it)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 5, .start_method = method});
            BOOST_TEST(p.map(f, std::vector<int>{1, 2, 3}) == (std::vector<int>{1, 4, 9}),
                       boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(map_takes_unsized_inputs_and_any_chunksize)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            auto evens =
                std::views::iota(0, 100) | std::views::filter([](int x) { return x % 2 == 0; });
            const auto got = p.map(f, evens);
            BOOST_REQUIRE(got.size() == 50U);
            BOOST_TEST(got[49] == 98 * 98);
            const auto chunked = p.map(f, std::views::iota(0, 1000), 64);
            BOOST_TEST(chunked.size() == 1000U);
            BOOST_TEST(chunked[999] == 999 * 999);
            BOOST_TEST(p.map(f, std::vector<int>{}).empty());
        }
    }
}

// With a chunksize given, no length is needed: an unsized input is read as the window moves,
// not listed first. Each element's first read, and each call, is stamped with the monotonic
// clock (one clock for every process).
namespace
{
long long now_ns(int)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

BOOST_AUTO_TEST_CASE(map_with_a_chunksize_reads_an_unsized_input_as_it_goes)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            std::vector<long long> read_at(200, 0);
            auto stamped = std::views::iota(0, 200) |
                           std::views::transform(
                               [&read_at](int i)
                               {
                                   if (read_at[static_cast<std::size_t>(i)] == 0)
                                   {
                                       read_at[static_cast<std::size_t>(i)] = now_ns(i);
                                   }
                                   return i;
                               }) |
                           std::views::filter([](int) { return true; }); // no size
            static_assert(!std::ranges::sized_range<decltype(stamped)>);
            const auto ran_at = p.map(now_ns, stamped, 10, 2);
            BOOST_REQUIRE(ran_at.size() == 200U);
            BOOST_TEST(read_at.back() > ran_at.front()); // read after the first call ran
        }
    }
}

BOOST_AUTO_TEST_CASE(starmap_of_triplets)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 5, .start_method = method});
            std::vector<std::tuple<int, int, int>> triplets;
            for (int i = 0; i < 1000; ++i)
            {
                triplets.emplace_back(i % 11, i % 7, i % 5);
            }
            const auto got = p.starmap(times, triplets);
            BOOST_REQUIRE(got.size() == 1000U);
            for (int i = 0; i < 1000; ++i)
            {
                BOOST_TEST(got[static_cast<std::size_t>(i)] == (i % 11) * (i % 7) * (i % 5));
            }
            const std::vector<std::pair<int, int>> pairs = {{1, 2}, {3, 4}};
            BOOST_TEST(p.starmap([](int a, int b) { return a + b; }, pairs) ==
                           (std::vector<int>{3, 7}),
                       boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(map_rethrows_the_first_failing_call)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            BOOST_CHECK_THROW(p.map(fail_on_three, std::views::iota(0, 10)), std::out_of_range);
        }
    }
}

BOOST_AUTO_TEST_CASE(map_async_runs_the_callback_before_the_result_is_ready)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            std::mutex mutex;
            std::size_t seen = 0;
            auto result = p.map_async(slow_square, std::views::iota(0, 40), 3,
                                      [&](const std::vector<int>& values)
                                      {
                                          std::lock_guard lock(mutex);
                                          seen = values.size();
                                      });
            const auto values = result.result(patience);
            {
                std::lock_guard lock(mutex);
                BOOST_TEST(seen == 40U);
            }
            BOOST_TEST(values[39] == 39 * 39);

            std::atomic<bool> error_seen{false};
            auto failing = p.map_async(
                fail_on_three, std::views::iota(0, 10), 1, [](const std::vector<int>&) {},
                [&](std::exception_ptr) { error_seen = true; });
            BOOST_CHECK_THROW(failing.result(patience), std::out_of_range);
            BOOST_TEST(error_seen.load());
        }
    }
}

BOOST_AUTO_TEST_CASE(starmap_async_gathers_in_order)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            const std::vector<std::tuple<int, int, int>> triplets = {
                {1, 2, 3}, {2, 2, 2}, {0, 5, 5}};
            BOOST_TEST(p.starmap_async(times, triplets).result(patience) ==
                           (std::vector<int>{6, 8, 0}),
                       boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(imap_is_lazy_and_ordered_and_imap_unordered_yields_everything)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            int expected = 0;
            for (int v : p.imap(successor, std::views::iota(0), 16))
            {
                BOOST_REQUIRE(v == expected + 1);
                if (++expected == 500)
                {
                    break; // an endless input: only what was asked for ran
                }
            }
            std::multiset<int> got;
            for (int v : p.imap_unordered(slow_square, std::views::iota(0, 200), 4))
            {
                got.insert(v);
            }
            BOOST_REQUIRE(got.size() == 200U);
            for (int i = 0; i < 200; ++i)
            {
                BOOST_TEST(got.count(i * i) == 1U);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(imap_unordered_yields_fast_results_before_slow_ones)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            // One task per worker: the slow one goes first and comes out last.
            pool p({.max_workers = 2, .start_method = method});
            std::vector<int> order;
            for (int v : p.imap_unordered(sleep_ms, std::vector<int>{1500, 1}))
            {
                order.push_back(v);
            }
            BOOST_TEST(order == (std::vector<int>{1, 1500}), boost::test_tools::per_element());
            // More tasks than workers: the short ones go to the free worker instead
            // of queueing behind the slow one (a worker is sent one task ahead until
            // its tasks were timed).
            order.clear();
            for (int v : p.imap_unordered(sleep_ms, std::vector<int>{1500, 1, 2, 3}))
            {
                order.push_back(v);
            }
            BOOST_REQUIRE(order.size() == 4U);
            BOOST_TEST(order.back() == 1500);
        }
    }
}

// Python's IMapIterator.next(timeout): a value not ready in time raises TimeoutError and is
// still there for the next call.
BOOST_AUTO_TEST_CASE(imap_next_with_a_timeout_throws_and_leaves_the_value_for_later)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 1, .start_method = method});
            auto values = p.imap(sleep_ms, std::vector<int>{300, 1, 2});
            BOOST_CHECK_THROW((void)values.next(10ms), weft::timeout_error);
            BOOST_TEST(values.next(patience).value_or(-1) == 300);
            BOOST_TEST(values.next(patience).value_or(-1) == 1);
            BOOST_TEST(values.next().value_or(-1) == 2);
            BOOST_TEST(!values.next(patience).has_value());
            BOOST_TEST(!values.next().has_value()); // and stays at the end
            BOOST_CHECK_THROW((void)values.begin(), weft::invalid_state_error);

            std::multiset<int> got;
            auto unordered = p.imap_unordered(sleep_ms, std::vector<int>{300, 200});
            BOOST_CHECK_THROW((void)unordered.next(10ms), weft::timeout_error);
            while (const auto v = unordered.next(patience))
            {
                got.insert(*v);
            }
            BOOST_TEST((got == std::multiset<int>{200, 300}));
        }
    }
}

BOOST_AUTO_TEST_CASE(imap_next_rethrows_a_failed_call_and_goes_on)
{
    pool p({.max_workers = 1});
    auto values = p.imap(fail_on_three, std::vector<int>{2, 3, 4});
    BOOST_TEST(values.next(patience).value_or(-1) == 2);
    BOOST_CHECK_THROW((void)values.next(patience), std::out_of_range);
    BOOST_TEST(values.next(patience).value_or(-1) == 4);
    BOOST_TEST(!values.next().has_value());

    auto iterated = p.imap(f, std::vector<int>{1, 2});
    auto it = iterated.begin();
    BOOST_TEST(*it == 1);
    BOOST_CHECK_THROW((void)iterated.next(), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(apply_and_apply_async_with_callbacks)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 1, .start_method = method});
            BOOST_TEST(p.apply(f, 3) == 9);
            std::atomic<int> value{0};
            auto ok = p.apply_async(f, std::tuple{9}, [&](int v) { value = v; });
            BOOST_TEST(ok.result(patience) == 81);
            BOOST_TEST(value.load() == 81);
            std::atomic<bool> failed{false};
            auto bad = p.apply_async(
                fail_on_three, std::tuple{3}, [](int) {},
                [&](std::exception_ptr e)
                {
                    try
                    {
                        std::rethrow_exception(e);
                    }
                    catch (const std::out_of_range&)
                    {
                        failed = true;
                    }
                });
            BOOST_CHECK_THROW(bad.result(patience), std::out_of_range);
            BOOST_TEST(failed.load());
        }
    }
}

BOOST_AUTO_TEST_CASE(maxtasksperchild_one_gives_each_task_a_fresh_initialized_worker)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 1,
                    .start_method = method,
                    .initializer = worker_initializer(init, ::getpid()),
                    .max_tasks_per_child = 1});
            const auto first = p.apply(whoami, 3);
            const auto second = p.apply(whoami, 4);
            BOOST_TEST(first.first != second.first); // the seed's two different worker pids
            BOOST_TEST(first.second == first.first); // each ran the initializer itself
            BOOST_TEST(second.second == second.first);
        }
    }
}

BOOST_AUTO_TEST_CASE(close_refuses_new_work_and_join_waits_for_what_was_submitted)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            auto pending = p.apply_async(sleep_ms, std::tuple{100});
            BOOST_CHECK_THROW(p.join(), weft::invalid_state_error); // join before close, as Python
            p.close();
            BOOST_CHECK_THROW(p.apply(f, 1), weft::invalid_state_error);
            BOOST_CHECK_THROW(p.map(f, std::vector<int>{1}), weft::invalid_state_error);
            p.join();
            BOOST_TEST(pending.done());
            BOOST_TEST(pending.result() == 100);
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(terminate_fails_every_unfinished_result_and_leaves_nothing_pending)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            std::vector<weft::future<int>> results;
            for (int i = 0; i < 20; ++i)
            {
                results.push_back(p.apply_async(sleep_ms, std::tuple{10'000}));
            }
            std::this_thread::sleep_for(50ms);
            const auto started = std::chrono::steady_clock::now();
            p.terminate();
            for (auto& r : results)
            {
                BOOST_CHECK_THROW(r.result(patience), weft::pool_terminated_error);
            }
            p.join();
            BOOST_TEST((std::chrono::steady_clock::now() - started < 5s));
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(workers_ignore_ctrl_c_and_the_parent_ends_the_pool_in_bounded_time)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            auto a = p.apply_async(sleep_ms, std::tuple{300});
            auto b = p.apply_async(sleep_ms, std::tuple{300});
            std::this_thread::sleep_for(50ms);
            // What the terminal's Ctrl-C sends to the foreground process group.
            for (const pid_t worker : p.worker_pids())
            {
                BOOST_TEST(::kill(worker, SIGINT) == 0);
            }
            BOOST_TEST(a.result(patience) == 300);
            BOOST_TEST(b.result(patience) == 300);
            // The parent decides: after an interrupt it terminates, and that takes no
            // longer than killing and reaping the workers, however long their tasks
            // would run.
            auto long_one = p.apply_async(sleep_ms, std::tuple{60'000});
            std::this_thread::sleep_for(20ms);
            const auto started = std::chrono::steady_clock::now();
            p.terminate();
            p.join();
            BOOST_TEST((std::chrono::steady_clock::now() - started < 20s));
            BOOST_CHECK_THROW(long_one.result(patience), weft::pool_terminated_error);
        }
    }
}

BOOST_AUTO_TEST_CASE(shutdown_within_lets_a_short_task_finish_and_kills_a_long_one)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            auto long_one = p.apply_async(sleep_ms, std::tuple{60'000});
            auto short_one = p.apply_async(sleep_ms, std::tuple{200});
            auto queued = p.apply_async(sleep_ms, std::tuple{60'000});
            std::this_thread::sleep_for(50ms);
            const auto started = std::chrono::steady_clock::now();
            p.shutdown_within(700ms);
            BOOST_TEST((std::chrono::steady_clock::now() - started < 10s));
            BOOST_TEST(short_one.result(patience) == 200);
            BOOST_CHECK_THROW(long_one.result(patience), weft::pool_terminated_error);
            BOOST_TEST(queued.cancelled());
            BOOST_CHECK_THROW((void)p.apply(sleep_ms, 1), weft::invalid_state_error);
            p.join();
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_destructor_closes_and_joins)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            weft::future<int> later;
            {
                pool p({.max_workers = 1, .start_method = method});
                later = p.apply_async(sleep_ms, std::tuple{50});
            }
            BOOST_TEST(later.done());
            BOOST_TEST(later.result() == 50);
        }
    }
}

BOOST_AUTO_TEST_CASE(processes_below_one_are_rejected)
{
    BOOST_CHECK_THROW(pool(0), std::invalid_argument);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
