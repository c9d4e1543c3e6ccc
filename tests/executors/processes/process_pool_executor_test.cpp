// process_pool_executor: values, strings, vectors and user types there and back, many tasks,
// messages larger than the ring, exceptions, and the options it refuses, each under the three
// start methods. Worker death, shutdown, waiting and refused descriptors:
// process_pool_{worker_death,shutdown,waiting,refused_descriptors}_test.cpp. main() calls
// weft::main_guard, as every program whose pool uses spawn or forkserver must.
#define BOOST_TEST_MODULE process_pool_executor
#define BOOST_TEST_NO_MAIN
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/labelled.hpp"
#include "support/process_pool_tests.hpp"

using weft::testing::labelled;
using weft::testing::my_pid;

namespace
{

struct my_error : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

std::string shout(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](char c) { return static_cast<char>(c - 32); });
    return s + "!";
}

std::vector<double> halves(std::vector<int> v)
{
    std::vector<double> out;
    for (int x : v)
    {
        out.push_back(x / 2.0);
    }
    return out;
}

labelled relabel(labelled l, std::string label)
{
    l.label = label;
    l.values.push_back(static_cast<int>(l.values.size()));
    return l;
}

std::uint64_t checksum(std::vector<std::uint8_t> bytes)
{
    std::uint64_t sum = 0;
    for (std::uint8_t b : bytes)
    {
        sum = sum * 31 + b;
    }
    return sum;
}

std::vector<std::uint8_t> big_bytes(int n)
{
    std::vector<std::uint8_t> out(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < out.size(); ++i)
    {
        out[i] = static_cast<std::uint8_t>(i * 7);
    }
    return out;
}

void throw_named(std::string kind)
{
    if (kind == "runtime")
        throw std::runtime_error("r");
    if (kind == "invalid")
        throw std::invalid_argument("i");
    if (kind == "range")
        throw std::out_of_range("o");
    if (kind == "logic")
        throw std::logic_error("l");
    if (kind == "mine")
        throw my_error("custom");
    throw 42;
}

} // namespace

BOOST_AUTO_TEST_CASE(values_strings_vectors_and_user_types_come_back)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            BOOST_TEST(pool.max_workers() == 2);
            auto a = pool.submit(square, 12);
            auto b = pool.submit(shout, std::string("hey"));
            auto c = pool.submit(halves, std::vector<int>{1, 2, 3});
            auto d = pool.submit(relabel, labelled{"old", {5, 6}}, std::string("new"));
            auto e = pool.submit([](int x, int y) { return x - y; }, 10, 3);
            BOOST_TEST(a.result(patience) == 144);
            BOOST_TEST(b.result(patience) == "HEY!");
            BOOST_TEST((c.result(patience) == std::vector<double>{0.5, 1.0, 1.5}));
            const labelled got = d.result(patience);
            BOOST_TEST(got.label == "new");
            BOOST_TEST((got.values == std::vector<int>{5, 6, 2}));
            BOOST_TEST(e.result(patience) == 7);
            // Ran in another process.
            BOOST_TEST(pool.submit(my_pid).result(patience) != ::getpid());
        }
    }
}

BOOST_AUTO_TEST_CASE(many_tasks_all_complete_in_a_pool_of_two)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::vector<future<int>> futures;
            for (int i = 0; i < 5000; ++i)
            {
                futures.push_back(pool.submit(square, i));
            }
            long long sum = 0;
            for (auto& f : futures)
            {
                sum += f.result(patience);
            }
            long long expected = 0;
            for (long long i = 0; i < 5000; ++i)
            {
                expected += i * i;
            }
            BOOST_TEST(sum == expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(arguments_and_results_larger_than_the_ring_stream_through)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            const std::vector<std::uint8_t> big = big_bytes(3 << 20); // 3 MiB, ring is 1 MiB
            auto sum = pool.submit(checksum, big);
            auto back = pool.submit(big_bytes, 5 << 20);
            auto after = pool.submit(square, 3);
            BOOST_TEST(sum.result(patience) == checksum(big));
            BOOST_TEST((back.result(patience) == big_bytes(5 << 20)));
            BOOST_TEST(after.result(patience) == 9);
        }
    }
}

BOOST_AUTO_TEST_CASE(exceptions_cross_the_boundary)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            BOOST_CHECK_EXCEPTION(pool.submit(throw_named, std::string("runtime")).result(patience),
                                  std::runtime_error,
                                  [](const std::runtime_error& e) {
                                      return typeid(e) == typeid(std::runtime_error) &&
                                             std::string(e.what()) == "r";
                                  });
            BOOST_CHECK_EXCEPTION(pool.submit(throw_named, std::string("invalid")).result(patience),
                                  std::invalid_argument,
                                  [](const std::invalid_argument& e)
                                  { return std::string(e.what()) == "i"; });
            BOOST_CHECK_EXCEPTION(
                pool.submit(throw_named, std::string("range")).result(patience), std::out_of_range,
                [](const std::out_of_range& e) { return std::string(e.what()) == "o"; });
            BOOST_CHECK_EXCEPTION(
                pool.submit(throw_named, std::string("logic")).result(patience), std::logic_error,
                [](const std::logic_error& e) { return typeid(e) == typeid(std::logic_error); });
            BOOST_CHECK_EXCEPTION(pool.submit(throw_named, std::string("mine")).result(patience),
                                  weft::remote_error,
                                  [](const weft::remote_error& e) {
                                      return e.type_name() == "(anonymous namespace)::my_error" &&
                                             e.message() == "custom";
                                  });
            BOOST_CHECK_EXCEPTION(
                pool.submit(throw_named, std::string("int")).result(patience), weft::remote_error,
                [](const weft::remote_error& e) { return e.type_name() == "int"; });
            // The worker that threw is still serving.
            BOOST_TEST(pool.submit(square, 5).result(patience) == 25);
        }
    }
}

BOOST_AUTO_TEST_CASE(invalid_options_are_rejected)
{
    BOOST_CHECK_THROW(process_pool_executor({.max_workers = -1}), std::invalid_argument);
    BOOST_CHECK_THROW(process_pool_executor({.max_tasks_per_child = -1}), std::invalid_argument);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
