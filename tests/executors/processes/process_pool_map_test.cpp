// process_pool_executor::map: chunked, lazy, in order; errors, timeouts and early destruction;
// each under the three start methods. main() calls weft::main_guard.
#define BOOST_TEST_MODULE process_pool_map
#define BOOST_TEST_NO_MAIN
#include <atomic>
#include <chrono>
#include <cstddef>
#include <list>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "pool_test_support.hpp"
#include "support/run_count.hpp"
#include "support/scratch_file.hpp"

using namespace std::chrono_literals;
using weft::process_pool_executor;
using weft::start_method;
using weft::test::all_methods;

namespace
{

int square(int x)
{
    return x * x;
}

int successor(int x)
{
    return x + 1;
}

std::string join_words(std::string a, int n)
{
    return a + ":" + std::to_string(n);
}

int fail_on_seven(int x)
{
    if (x == 7)
    {
        throw std::invalid_argument("seven");
    }
    return x;
}

int slow_identity(int x)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(x));
    return x;
}

void nothing(int) {}

struct point
{
    int x;
    double y;
};

double weigh(point p, long w)
{
    return (p.x + p.y) * static_cast<double>(w);
}

double halve(double d)
{
    return d / 2;
}

int fail_at_length(int x)
{
    if (x == 123)
    {
        throw std::runtime_error(std::string(1000, 'x'));
    }
    return x;
}

} // namespace

BOOST_AUTO_TEST_CASE(map_yields_every_value_in_order_at_every_chunksize)
{
    for (const start_method method : all_methods)
    {
        process_pool_executor pool({.max_workers = 2, .start_method = method});
        for (const std::size_t chunksize : {1UL, 7UL, 1000UL})
        {
            BOOST_TEST_CONTEXT(weft::to_string(method) << " chunksize " << chunksize)
            {
                std::vector<int> inputs(2500);
                for (int i = 0; i < 2500; ++i)
                {
                    inputs[static_cast<std::size_t>(i)] = i;
                }
                std::vector<int> got;
                for (int v : pool.map(square, inputs, {.chunksize = chunksize}))
                {
                    got.push_back(v);
                }
                BOOST_REQUIRE(got.size() == 2500U);
                for (int i = 0; i < 2500; ++i)
                {
                    BOOST_TEST(got[static_cast<std::size_t>(i)] == i * i);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(trivially_copyable_inputs_of_every_shape_arrive_as_they_were)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            // Plain-bytes arguments are written as records straight into the chunk: one memcpy for
            // a contiguous input of the argument type, a loop for other sized inputs, value by
            // value for an input of unknown length. Every shape must give the same calls.
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::vector<point> points;
            for (int i = 0; i < 3000; ++i)
            {
                points.push_back({i, i / 4.0});
            }
            const std::list<double> listed(1000, 3.0);
            for (const std::size_t chunksize : {1UL, 3UL, 1000UL})
            {
                BOOST_TEST_CONTEXT("chunksize " << chunksize)
                {
                    std::vector<double> got;
                    // Two inputs (a contiguous one and an iota of another type): the shorter ends
                    // it.
                    for (double v : pool.map(weigh, points, std::views::iota(1L, 2001L),
                                             {.chunksize = chunksize}))
                    {
                        got.push_back(v);
                    }
                    BOOST_REQUIRE(got.size() == 2000U);
                    for (std::size_t i = 0; i < got.size(); ++i)
                    {
                        BOOST_TEST(got[i] ==
                                   (points[i].x + points[i].y) * static_cast<double>(i + 1));
                    }
                    std::size_t count = 0;
                    for (double v : pool.map(halve, listed, {.chunksize = chunksize}))
                    {
                        BOOST_TEST(v == 1.5);
                        ++count;
                    }
                    BOOST_TEST(count == 1000U);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(an_input_that_throws_ends_the_iteration_after_the_chunks_before_it)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            auto throwing =
                std::views::iota(0, 100000) | std::views::transform(
                                                  [](int i)
                                                  {
                                                      if (i == 500)
                                                      {
                                                          throw std::out_of_range("input");
                                                      }
                                                      return i;
                                                  });
            std::vector<int> got;
            BOOST_CHECK_THROW(
                {
                    for (int v : pool.map(square, throwing, {.chunksize = 10}))
                    {
                        got.push_back(v);
                    }
                },
                std::out_of_range);
            // The chunk being read when the input threw never went out; every one before it did.
            BOOST_REQUIRE(got.size() == 500U);
            for (int i = 0; i < 500; ++i)
            {
                BOOST_TEST(got[static_cast<std::size_t>(i)] == i * i);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_map_refused_midway_yields_what_was_sent_then_the_refusal)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::vector<int> got;
            BOOST_CHECK_THROW(
                {
                    // Not square: past 46,340 its result overflows int (UBSan aborts the worker).
                    for (int v :
                         pool.map(successor, std::views::iota(0, 1000000), {.chunksize = 10}))
                    {
                        if (got.empty())
                        {
                            pool.shutdown(false); // the chunks already sent still finish
                        }
                        got.push_back(v);
                    }
                },
                weft::invalid_state_error);
            BOOST_REQUIRE(!got.empty());
            BOOST_TEST(got.size() < 1000000U);
            BOOST_TEST(got.size() % 10 == 0U);
            for (std::size_t i = 0; i < got.size(); ++i)
            {
                BOOST_TEST(got[i] == static_cast<int>(i) + 1);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(large_chunks_and_long_error_messages_come_back_whole)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::vector<int> inputs(40000); // squares below 2^31
            for (int i = 0; i < 40000; ++i)
            {
                inputs[static_cast<std::size_t>(i)] = i;
            }
            long long sum = 0;
            for (int v : pool.map(square, inputs, {.chunksize = 10000}))
            {
                sum += v;
            }
            long long expected = 0;
            for (long long i = 0; i < 40000; ++i)
            {
                expected += i * i;
            }
            BOOST_TEST(sum == expected);
            try
            {
                for (int v : pool.map(fail_at_length, inputs, {.chunksize = 5000}))
                {
                    (void)v;
                }
                BOOST_FAIL("the call that threw did not fail the map");
            }
            catch (const std::runtime_error& e)
            {
                BOOST_TEST(std::string(e.what()) == std::string(1000, 'x'));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(map_over_two_inputs_stops_at_the_shorter_and_takes_any_serializable_type)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            const std::list<std::string> words = {"a", "b", "c", "d"};
            std::vector<std::string> got;
            for (auto& s : pool.map(join_words, words, std::views::iota(1, 100), {.chunksize = 3}))
            {
                got.push_back(s);
            }
            BOOST_TEST(got == (std::vector<std::string>{"a:1", "b:2", "c:3", "d:4"}),
                       boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(map_of_a_void_function_yields_one_value_per_input)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::size_t count = 0;
            for (bool done : pool.map(nothing, std::views::iota(0, 50), {.chunksize = 8}))
            {
                count += done ? 1 : 0;
            }
            BOOST_TEST(count == 50U);
        }
    }
}

BOOST_AUTO_TEST_CASE(an_exception_ends_the_iteration_at_its_chunk_after_the_values_before_it)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::vector<int> got;
            auto values = pool.map(fail_on_seven, std::views::iota(0, 20), {.chunksize = 5});
            BOOST_CHECK_THROW(
                {
                    for (int v : values)
                    {
                        got.push_back(v);
                    }
                },
                std::invalid_argument);
            // The chunk [5, 10) failed as a whole, as in Python: 0..4 came out.
            BOOST_TEST(got == (std::vector<int>{0, 1, 2, 3, 4}), boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(map_reads_an_endless_input_lazily_within_its_window)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::atomic<int> pulled{0};
            auto endless = std::views::iota(0) | std::views::transform(
                                                     [&pulled](int i)
                                                     {
                                                         pulled.fetch_add(1);
                                                         return i;
                                                     });
            int seen = 0;
            for (int v : pool.map(square, endless, {.chunksize = 10, .window = 3}))
            {
                BOOST_REQUIRE(v == seen * seen);
                if (++seen == 1000)
                {
                    break;
                }
            }
            // What was read ahead is bounded by the window: three chunks of ten beyond the current.
            BOOST_TEST(pulled.load() <= 1000 + 4 * 10);
        }
    }
}

BOOST_AUTO_TEST_CASE(map_timeout_throws_timeout_error)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            // Started and answering first: the first value must come within the map's limit, which
            // counts from the call.
            BOOST_TEST(pool.submit(slow_identity, 1).result(weft::test::patience) == 1);
            const std::vector<int> delays = {1, 2000, 1};
            auto values = pool.map(slow_identity, delays, {.timeout = 500ms, .chunksize = 1});
            auto it = values.begin();
            BOOST_TEST(*it == 1);
            BOOST_CHECK_THROW(++it, weft::timeout_error);
        }
    }
}

BOOST_AUTO_TEST_CASE(chunksize_zero_is_rejected)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            const std::vector<int> inputs = {1, 2};
            BOOST_CHECK_THROW((void)pool.map(square, inputs, {.chunksize = 0}),
                              std::invalid_argument);
        }
    }
}

BOOST_AUTO_TEST_CASE(map_after_shutdown_is_refused)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            pool.shutdown();
            const std::vector<int> inputs = {1, 2};
            BOOST_CHECK_THROW((void)pool.map(square, inputs), weft::invalid_state_error);
        }
    }
}

namespace
{

int count_then_sleep(int x, std::string path)
{
    weft::testing::count_run(path);
    std::this_thread::sleep_for(20ms);
    return x;
}

} // namespace

// Python's close() of a result iterator: the chunks not started are cancelled, so most of the
// input never runs; the pool goes on.
BOOST_AUTO_TEST_CASE(destroying_the_range_early_cancels_the_chunks_not_started)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            const weft::testing::scratch_file counter;
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            {
                auto values = pool.map(count_then_sleep, std::views::iota(0, 200),
                                       std::vector<std::string>(200, counter.path()),
                                       {.chunksize = 2, .window = 4});
                BOOST_TEST(*values.begin() == 0);
            }
            BOOST_TEST(pool.submit(square, 9).result(weft::test::patience) == 81);
            pool.shutdown(true); // every call that started has ended
            const int ran = weft::testing::runs(counter.path());
            BOOST_TEST_INFO("calls run: " << ran);
            // The first chunk, the window's chunks and a refill in flight at most.
            BOOST_TEST(ran <= 2 * (1 + 4 + 4));
        }
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
