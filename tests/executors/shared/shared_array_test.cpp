// shared_array: Python's Array and RawArray. Sizes and initializers, bounds checks, to_vector,
// a child's changes seen by the parent under every start method (the seeds' Array + two
// semaphores program), the raw array as a span, passing through pool tasks and map, an external
// lock, and nothing leaks.
#define BOOST_TEST_MODULE shared_array
#define BOOST_TEST_NO_MAIN
#include <algorithm>
#include <cstdint>
#include <dirent.h>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../processes/pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::shared_array;
using weft::shared_value;
using weft::start_method;
using weft::interprocess::semaphore;
using weft::test::all_methods;
using weft::test::patience;

namespace
{

struct point
{
    double x;
    double y;
};

// The seeds' child_process: reports arr[0] as received, lets the parent change it, reports what
// it sees then. It also changes arr[4] for the parent to see.
void child_process(semaphore sem1, semaphore sem2, shared_array<int> arr, shared_array<int> seen)
{
    seen.set(0, arr.get(0));
    arr.set(4, arr.get(4) * 10);
    sem1.release();
    if (!sem2.acquire(patience))
    {
        throw std::runtime_error("child_process: the parent never released sem2");
    }
    seen.set(1, arr.get(0));
}

// Fills a raw array through its span with i * i and sums it through begin/end.
void fill_squares(shared_array<std::int64_t> raw, shared_value<std::int64_t> sum)
{
    for (std::size_t i = 0; i < raw.span().size(); ++i)
    {
        raw.span()[i] = static_cast<std::int64_t>(i * i);
    }
    sum.set(std::accumulate(raw.begin(), raw.end(), std::int64_t{0}));
}

int set_in_task(shared_array<int> arr, int i, int value)
{
    arr.set(static_cast<std::size_t>(i), value);
    return arr.get(static_cast<std::size_t>(i));
}

int square_into(int i, shared_array<int> arr)
{
    arr.set(static_cast<std::size_t>(i), i * i);
    return i * i;
}

template <class Lock>
void add_under_lock(shared_array<int, Lock> arr, int times)
{
    for (int i = 0; i < times; ++i)
    {
        auto held = arr.get_lock().guard();
        const int seen = arr[0];
        arr[0] = seen + 1; // a lost update shows if the lock does not exclude
        arr[1] += 2;
    }
}

std::size_t open_fds()
{
    std::size_t n = 0;
    DIR* dir = ::opendir("/proc/self/fd");
    while (::readdir(dir) != nullptr)
    {
        ++n;
    }
    ::closedir(dir);
    return n;
}

} // namespace

BOOST_AUTO_TEST_CASE(sizes_and_initializers)
{
    shared_array<int> zeros(5);
    BOOST_TEST(zeros.size() == 5U);
    BOOST_TEST(zeros.to_vector() == std::vector<int>(5, 0), boost::test_tools::per_element());
    BOOST_TEST(zeros.synchronized());

    shared_array<int> listed{1, 2, 3};
    BOOST_TEST(listed.to_vector() == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
    shared_array<int> one{5}; // braces: one element, as std::vector
    BOOST_TEST(one.size() == 1U);
    BOOST_TEST(one.get(0) == 5);

    std::vector<int> values{4, 5, 6, 7};
    shared_array<int> from_lvalue(values);
    const std::vector<int>& as_const = values;
    shared_array<int> from_const(as_const);
    shared_array<int> from_rvalue(std::vector<int>{4, 5, 6, 7});
    shared_array<int> from_range(std::views::iota(4, 8));
    for (const auto* arr : {&from_lvalue, &from_const, &from_rvalue, &from_range})
    {
        BOOST_TEST(arr->to_vector() == values, boost::test_tools::per_element());
    }

    shared_array<point> points(std::vector<point>{{1.0, 2.0}, {3.0, 4.0}});
    BOOST_TEST(points.get(1).x == 3.0);
    BOOST_TEST(points.get(1).y == 4.0);

    shared_array<double> empty(0);
    BOOST_TEST(empty.size() == 0U);
    BOOST_TEST(empty.to_vector().empty());
    BOOST_TEST(empty.span().empty());

    shared_array<int> raw(3, {.lock = false});
    BOOST_TEST(!raw.synchronized());
    BOOST_CHECK_THROW((void)raw.get_lock(), weft::invalid_state_error);
    raw.set(2, 9);
    BOOST_TEST(raw.get(2) == 9);

    // copies of the handle are the same array
    shared_array<int> copy(zeros);
    shared_array<int> assigned = zeros;
    copy.set(0, 1);
    assigned.set(1, 2);
    BOOST_TEST(zeros.get(0) == 1);
    BOOST_TEST(zeros.get(1) == 2);
}

BOOST_AUTO_TEST_CASE(indexing_out_of_range_throws)
{
    shared_array<int> arr{1, 2, 3};
    BOOST_CHECK_THROW((void)arr.get(3), std::out_of_range);
    BOOST_CHECK_THROW(arr.set(3, 0), std::out_of_range);
    BOOST_CHECK_THROW((void)arr.at(3), std::out_of_range);
    BOOST_CHECK_THROW((void)arr.at(static_cast<std::size_t>(-1)), std::out_of_range);
    BOOST_TEST(arr.at(2) == 3);
    arr.at(2) = 4;
    BOOST_TEST(arr.get(2) == 4);
    BOOST_TEST(arr.to_vector() == (std::vector<int>{1, 2, 4}), boost::test_tools::per_element());
    shared_array<int> empty(0);
    BOOST_CHECK_THROW((void)empty.get(0), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(a_childs_changes_are_seen_by_the_parent_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT("start method " << static_cast<int>(method))
        {
            semaphore sem1(0);
            semaphore sem2(0);
            shared_array<int> arr(std::views::iota(0, 5)); // Array('i', range(5))
            shared_array<int> seen{-1, -1};
            weft::process child({.start_method = method}, child_process, sem1, sem2, arr, seen);
            child.start();
            BOOST_REQUIRE(sem1.acquire(patience));
            BOOST_TEST(arr.get(4) == 40); // the child's change, seen here
            {
                auto held = arr.get_lock().guard();
                arr[0] += 100;
            }
            sem2.release();
            BOOST_REQUIRE(child.join(patience));
            BOOST_TEST(child.exitcode().value_or(-99) == 0);
            BOOST_TEST(seen.get(0) == 0);   // as received
            BOOST_TEST(seen.get(1) == 100); // the parent's change, seen there
            BOOST_TEST(arr.to_vector() == (std::vector<int>{100, 1, 2, 3, 40}),
                       boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_raw_array_as_a_span)
{
    shared_array<std::int64_t> raw(100, {.lock = false});
    shared_value<std::int64_t> sum(-1);
    weft::process child({.start_method = start_method::spawn}, fill_squares, raw, sum);
    child.start();
    BOOST_REQUIRE(child.join(patience));
    BOOST_TEST(child.exitcode().value_or(-99) == 0);
    std::int64_t expected = 0;
    for (std::int64_t i = 0; i < 100; ++i)
    {
        expected += i * i;
    }
    BOOST_TEST(sum.get() == expected);
    const std::span<std::int64_t> view = raw.span();
    BOOST_TEST(view.size() == 100U);
    BOOST_TEST(view[7] == 49);
    BOOST_TEST(view.data() == raw.begin());
    BOOST_TEST(std::accumulate(raw.begin(), raw.end(), std::int64_t{0}) == expected);
    view[7] = -1;
    BOOST_TEST(raw.get(7) == -1);
}

BOOST_AUTO_TEST_CASE(through_pool_tasks_and_map)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT("start method " << static_cast<int>(method))
        {
            constexpr int n = 50;
            shared_array<int> arr(static_cast<std::size_t>(n));
            weft::process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::vector<weft::future<int>> results;
            for (int i = 0; i < n; ++i)
            {
                results.push_back(pool.submit(set_in_task, arr, i, i + 1000));
            }
            for (int i = 0; i < n; ++i)
            {
                BOOST_TEST(results[static_cast<std::size_t>(i)].result(patience) == i + 1000);
            }
            for (int i = 0; i < n; ++i)
            {
                BOOST_TEST(arr.get(static_cast<std::size_t>(i)) == i + 1000);
            }

            shared_array<int> squares(static_cast<std::size_t>(n));
            std::vector<int> indices(static_cast<std::size_t>(n));
            std::iota(indices.begin(), indices.end(), 0);
            const std::vector<shared_array<int>> handles(static_cast<std::size_t>(n), squares);
            std::vector<int> returned;
            for (const int r : pool.map(square_into, indices, handles, {.timeout = patience}))
            {
                returned.push_back(r);
            }
            BOOST_TEST(returned.size() == static_cast<std::size_t>(n));
            for (int i = 0; i < n; ++i)
            {
                BOOST_TEST(squares.get(static_cast<std::size_t>(i)) == i * i);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(an_external_lock_guards_it)
{
    weft::interprocess::lock shared_lock;
    shared_array<int, weft::interprocess::lock> arr(2, shared_lock);
    BOOST_TEST(arr.synchronized());
    BOOST_TEST(arr.get_lock().state_ref().segment() == shared_lock.state_ref().segment());
    weft::process child({.start_method = start_method::forkserver},
                        add_under_lock<weft::interprocess::lock>, arr, 3000);
    child.start();
    add_under_lock(arr, 3000);
    BOOST_REQUIRE(child.join(patience));
    BOOST_TEST(child.exitcode().value_or(-99) == 0);
    BOOST_TEST(arr.get(0) == 6000);
    BOOST_TEST(arr.get(1) == 12000);
    {
        auto held = shared_lock.guard(); // get() takes the same lock: held here, it would wait
        BOOST_TEST(arr.get_lock().locked());
    }
    BOOST_TEST(!shared_lock.locked());

    weft::interprocess::rlock shared_rlock;
    shared_array<int> guarded(2, shared_rlock);
    weft::process other({.start_method = start_method::spawn},
                        add_under_lock<weft::interprocess::rlock>, guarded, 2000);
    other.start();
    add_under_lock(guarded, 2000);
    BOOST_REQUIRE(other.join(patience));
    BOOST_TEST(guarded.get(0) == 4000);
    auto held = shared_rlock.guard();
    BOOST_TEST(guarded.get(1) == 8000); // get() re-acquires the rlock held here
}

BOOST_AUTO_TEST_CASE(nothing_leaks)
{
    for (const start_method method : all_methods) // whatever a first start keeps (forkserver)
    {
        weft::process warm({.start_method = method}, add_under_lock<weft::interprocess::rlock>,
                           shared_array<int>(2), 1);
        warm.start();
        BOOST_REQUIRE(warm.join(patience));
    }
    const std::size_t before = open_fds();
    const std::size_t live = weft::detail::shared_segment::live_count();
    {
        shared_array<int> arr(1000);
        shared_array<int> listed{1, 2, 3};
        shared_array<int, weft::interprocess::lock> external(4, weft::interprocess::lock());
        shared_array<double> raw(8, {.lock = false});
        BOOST_TEST(weft::detail::shared_segment::live_count() > live);
        for (const start_method method : all_methods)
        {
            weft::process child({.start_method = method}, add_under_lock<weft::interprocess::rlock>,
                                arr, 10);
            child.start();
            BOOST_REQUIRE(child.join(patience));
        }
        BOOST_TEST(arr.get(0) == 30);
    }
    BOOST_TEST(weft::detail::shared_segment::live_count() == live);
    BOOST_TEST(open_fds() == before);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
