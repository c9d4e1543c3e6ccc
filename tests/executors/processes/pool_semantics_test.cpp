// weft::pool against Python's Pool where the two could differ: map_async waits for every chunk
// after a failure (test_map_no_failfast), the default chunksize is Pool's formula, and the
// blocking map reads its input a bounded window ahead (or all at once, on request).
#define BOOST_TEST_MODULE pool_semantics
#define BOOST_TEST_NO_MAIN
#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../../support/scratch_dir.hpp"
#include "pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::pool;
using weft::start_method;
using weft::test::all_methods;
using weft::test::patience;
using weft::testing::scratch_dir;

namespace
{

// Fails at once for item 0; every other item waits a while, then leaves a file behind.
int fail_first_then_mark(int x, std::string dir)
{
    if (x == 0)
    {
        throw std::domain_error("item 0");
    }
    std::this_thread::sleep_for(100ms);
    std::ofstream(dir + "/" + std::to_string(x)) << x;
    return x;
}

// Item 0 holds its worker long enough for the test to see how far the input was read.
int hold_first(int x)
{
    if (x == 0)
    {
        std::this_thread::sleep_for(400ms);
    }
    return x * 2;
}

// Runs pool.map over n counted inputs with `window`, and returns the most inputs read while
// item 0 was still running (sampled for 250 ms from another thread) and the map's result.
std::pair<int, std::vector<int>> inputs_read_during_first_call(pool& p, int n, std::size_t window)
{
    std::atomic<int> read{0};
    std::atomic<bool> mapping{true};
    std::atomic<int> most{0};
    std::thread watcher(
        [&]
        {
            const auto until = std::chrono::steady_clock::now() + 250ms;
            while (mapping.load() && std::chrono::steady_clock::now() < until)
            {
                most.store(std::max(most.load(), read.load()));
                std::this_thread::sleep_for(1ms);
            }
        });
    auto counted = std::views::iota(0, n) | std::views::transform(
                                                [&](int x)
                                                {
                                                    read.fetch_add(1);
                                                    return x;
                                                });
    std::vector<int> values;
    try
    {
        values = p.map(hold_first, counted, 1, window);
    }
    catch (...)
    {
        mapping = false;
        watcher.join();
        throw;
    }
    mapping = false;
    watcher.join();
    return {most.load(), std::move(values)};
}

int fail_on_multiples_of_five(int x)
{
    if (x % 5 == 0)
    {
        throw std::invalid_argument("multiple of five: " + std::to_string(x));
    }
    return x;
}

// Walks a keep-going range to its end: the values, and the messages of the failed positions.
template <class Range>
std::pair<std::vector<int>, std::vector<std::string>> walk(Range&& range)
{
    std::vector<int> values;
    std::vector<std::string> failures;
    for (auto it = range.begin(); it != range.end(); ++it)
    {
        try
        {
            values.push_back(*it);
        }
        catch (const std::invalid_argument& e)
        {
            failures.emplace_back(e.what());
        }
    }
    return {values, failures};
}

} // namespace

BOOST_AUTO_TEST_CASE(map_async_waits_for_every_chunk_after_a_failure)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            scratch_dir marks;
            std::vector<std::tuple<int, std::string>> items;
            for (int i = 0; i < 8; ++i)
            {
                items.emplace_back(i, marks.path());
            }
            pool p({.max_workers = 2, .start_method = method});
            std::atomic<int> errors{0};
            std::atomic<int> values{0};
            auto result = p.starmap_async(
                fail_first_then_mark, items, 1, [&](const std::vector<int>&) { ++values; },
                [&](std::exception_ptr) { ++errors; });
            // Item 0 fails at once; seven items of 100 ms on two workers take 400 ms more.
            BOOST_TEST(!result.wait_for(150ms));
            BOOST_CHECK_THROW(result.result(patience), std::domain_error);
            BOOST_TEST(marks.files() == 7U); // every other item ran
            BOOST_TEST(errors.load() == 1);
            BOOST_TEST(values.load() == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(map_async_reports_the_first_chunk_to_fail)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            auto result = p.map_async(
                [](int x)
                {
                    if (x == 5)
                    {
                        throw std::invalid_argument("five, at once");
                    }
                    if (x == 1)
                    {
                        std::this_thread::sleep_for(300ms);
                        throw std::out_of_range("one, later");
                    }
                    return x;
                },
                std::views::iota(0, 8), 1);
            BOOST_CHECK_EXCEPTION(result.result(patience), std::invalid_argument,
                                  [](const std::invalid_argument& e)
                                  { return std::string(e.what()) == "five, at once"; });
        }
    }
}

BOOST_AUTO_TEST_CASE(default_chunksize_is_pools_formula)
{
    // SEMANTICS 1.5: 10 items / 2 processes -> 2, 100/4 -> 7, 1000/4 -> 63, 7/4 -> 1.
    static_assert(pool::default_chunksize(10, 2) == 2);
    BOOST_TEST(pool::default_chunksize(100, 4) == 7U);
    BOOST_TEST(pool::default_chunksize(1000, 4) == 63U);
    BOOST_TEST(pool::default_chunksize(7, 4) == 1U);
    BOOST_TEST(pool::default_chunksize(0, 4) == 1U);
    BOOST_TEST(pool::default_chunksize(16, 2) == 2U);
    BOOST_TEST(pool::default_chunksize(17, 2) == 3U);
}

BOOST_AUTO_TEST_CASE(map_reads_its_input_a_window_ahead_or_all_at_once_on_request)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            (void)p.map(hold_first, std::views::iota(0, 4)); // workers up before timing
            constexpr int n = 200;
            std::vector<int> doubled(n);
            for (int i = 0; i < n; ++i)
            {
                doubled[static_cast<std::size_t>(i)] = 2 * i;
            }
            auto [bounded_read, bounded] = inputs_read_during_first_call(p, n, 4);
            BOOST_TEST(bounded_read <= 5); // four chunks of one, and the one being encoded
            BOOST_TEST(bounded == doubled, boost::test_tools::per_element());
            auto [eager_read, eager] = inputs_read_during_first_call(p, n, pool::eager_window);
            BOOST_TEST(eager_read == n);
            BOOST_TEST(eager == doubled, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(imap_goes_on_after_a_failed_chunk)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            // chunksize 1: every multiple of five is a failed position of its own.
            auto [values, failures] =
                walk(p.imap(fail_on_multiples_of_five, std::views::iota(0, 20)));
            std::vector<int> expected;
            for (int i = 0; i < 20; ++i)
            {
                if (i % 5 != 0)
                {
                    expected.push_back(i);
                }
            }
            BOOST_TEST(values == expected, boost::test_tools::per_element());
            BOOST_TEST(failures == (std::vector<std::string>{
                                       "multiple of five: 0", "multiple of five: 5",
                                       "multiple of five: 10", "multiple of five: 15"}),
                       boost::test_tools::per_element());

            // chunksize 4: the chunks holding 5 and 15 fail whole, once each; the rest come.
            const std::vector<int> input = {1,  2,  3,  4,  5,  6,  7,  8,  11, 12,
                                            13, 14, 15, 16, 17, 18, 21, 22, 23, 24};
            auto chunked = walk(p.imap(fail_on_multiples_of_five, input, 4));
            BOOST_TEST(chunked.second.size() == 2U);
            BOOST_TEST(chunked.first ==
                           (std::vector<int>{1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24}),
                       boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(imap_unordered_goes_on_after_a_failed_chunk)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            auto [values, failures] =
                walk(p.imap_unordered(fail_on_multiples_of_five, std::views::iota(0, 30)));
            std::ranges::sort(values);
            BOOST_TEST(values.size() == 24U);
            BOOST_TEST(failures.size() == 6U);
            BOOST_TEST(values.front() == 1);
            BOOST_TEST(values.back() == 29);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_range_for_over_imap_stops_at_the_first_failure)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool p({.max_workers = 2, .start_method = method});
            std::vector<int> seen;
            BOOST_CHECK_THROW(
                for (int v
                     : p.imap(fail_on_multiples_of_five, std::views::iota(1, 20))) {
                    seen.push_back(v);
                },
                std::invalid_argument);
            BOOST_TEST(seen == (std::vector<int>{1, 2, 3, 4}), boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_map_range_outliving_its_pool_is_refused_not_undefined)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            std::optional<weft::process_pool_executor> executor;
            executor.emplace(
                weft::process_pool_executor::options{.max_workers = 1, .start_method = method});
            // Two chunks of one in flight; the input goes on for ever.
            auto values =
                executor->map(hold_first, std::views::iota(0), {.chunksize = 1, .window = 2});
            executor.reset(); // waits for the two submitted calls, then the workers exit
            std::vector<int> got;
            BOOST_CHECK_THROW(
                for (int v
                     : values) { got.push_back(v); },
                weft::invalid_state_error);
            BOOST_TEST(got == (std::vector<int>{0, 2}), boost::test_tools::per_element());
        }
    }
    std::optional<pool> p;
    p.emplace(2);
    auto values = p->imap(hold_first, std::views::iota(0), 1, 2);
    p.reset();
    std::vector<int> got;
    auto it = values.begin();
    for (; it != values.end(); ++it)
    {
        try
        {
            got.push_back(*it);
        }
        catch (const weft::invalid_state_error&)
        {
            break;
        }
    }
    BOOST_TEST(got == (std::vector<int>{0, 2}), boost::test_tools::per_element());
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
