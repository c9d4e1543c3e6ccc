// process_pool_executor::map: chunked, lazy, in order, under the three start methods; errors,
// timeouts and early destruction. main() calls weft::main_guard.
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

BOOST_AUTO_TEST_CASE(map_over_two_inputs_stops_at_the_shorter_and_takes_any_serializable_type)
{
    process_pool_executor pool({.max_workers = 2});
    const std::list<std::string> words = {"a", "b", "c", "d"};
    std::vector<std::string> got;
    for (auto& s : pool.map(join_words, words, std::views::iota(1, 100), {.chunksize = 3}))
    {
        got.push_back(s);
    }
    BOOST_TEST(got == (std::vector<std::string>{"a:1", "b:2", "c:3", "d:4"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(map_of_a_void_function_yields_one_value_per_input)
{
    process_pool_executor pool({.max_workers = 2});
    std::size_t count = 0;
    for (bool done : pool.map(nothing, std::views::iota(0, 50), {.chunksize = 8}))
    {
        count += done ? 1 : 0;
    }
    BOOST_TEST(count == 50U);
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
    process_pool_executor pool({.max_workers = 2});
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

BOOST_AUTO_TEST_CASE(map_timeout_throws_timeout_error)
{
    process_pool_executor pool({.max_workers = 1});
    const std::vector<int> delays = {1, 2000, 1};
    auto values = pool.map(slow_identity, delays, {.timeout = 200ms, .chunksize = 1});
    auto it = values.begin();
    BOOST_TEST(*it == 1);
    BOOST_CHECK_THROW(++it, weft::timeout_error);
}

BOOST_AUTO_TEST_CASE(chunksize_zero_is_rejected)
{
    process_pool_executor pool({.max_workers = 1});
    const std::vector<int> inputs = {1, 2};
    BOOST_CHECK_THROW((void)pool.map(square, inputs, {.chunksize = 0}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(map_after_shutdown_is_refused)
{
    process_pool_executor pool({.max_workers = 1});
    pool.shutdown();
    const std::vector<int> inputs = {1, 2};
    BOOST_CHECK_THROW((void)pool.map(square, inputs), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(destroying_the_range_early_leaves_the_pool_usable)
{
    process_pool_executor pool({.max_workers = 2});
    {
        auto values = pool.map(slow_identity, std::views::iota(1, 200), {.chunksize = 2});
        BOOST_TEST(*values.begin() == 1);
    }
    BOOST_TEST(pool.submit(square, 9).result(weft::test::patience) == 81);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
