// shared_value: Python's Value and RawValue. Changes made by children under every start method
// are seen by the parent; the own lock makes read-modify-write exact across processes; raw and
// external-lock variants; passing through pool tasks and an initializer; nothing leaks.
#define BOOST_TEST_MODULE shared_value
#define BOOST_TEST_NO_MAIN
#include <cstdint>
#include <dirent.h>
#include <stdexcept>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "../processes/pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::shared_value;
using weft::start_method;
using weft::test::all_methods;
using weft::test::patience;

namespace
{

struct point
{
    double x;
    double y;
};

void add_many(shared_value<std::int64_t> v, int times)
{
    for (int i = 0; i < times; ++i)
    {
        auto held = v.get_lock().guard();
        v.raw() += 1;
    }
}

void move_point(shared_value<point> p)
{
    p.set({p.get().x + 1.5, p.get().y - 2.0});
}

std::int64_t add_in_task(shared_value<std::int64_t> v)
{
    auto held = v.get_lock().guard();
    return ++v.raw();
}

void add_with_external(shared_value<int, weft::interprocess::lock> v, int times)
{
    for (int i = 0; i < times; ++i)
    {
        auto held = v.get_lock().guard();
        v.raw() += 1;
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

BOOST_AUTO_TEST_CASE(get_set_and_raw_in_one_process)
{
    shared_value<int> v(7);
    BOOST_TEST(v.get() == 7);
    v.set(9);
    BOOST_TEST(v.get() == 9);
    v.raw() = 11;
    BOOST_TEST(v.get() == 11);
    BOOST_TEST(v.synchronized());
    shared_value<int> copy = v; // the same memory
    copy.set(12);
    BOOST_TEST(v.get() == 12);
}

BOOST_AUTO_TEST_CASE(locked_increments_from_two_processes_are_exact_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        shared_value<std::int64_t> v(0);
        weft::process a({.start_method = method}, add_many, v, 5000);
        weft::process b({.start_method = method}, add_many, v, 5000);
        a.start();
        b.start();
        add_many(v, 5000);
        a.join(patience);
        b.join(patience);
        BOOST_TEST(a.exitcode().value_or(-99) == 0);
        BOOST_TEST(b.exitcode().value_or(-99) == 0);
        BOOST_TEST(v.get() == 15000);
    }
}

BOOST_AUTO_TEST_CASE(a_struct_value_changed_by_a_child_is_seen_by_the_parent)
{
    shared_value<point> p(point{1.0, 2.0});
    weft::process child({.start_method = start_method::spawn}, move_point, p);
    child.start();
    child.join(patience);
    BOOST_TEST(p.get().x == 2.5);
    BOOST_TEST(p.get().y == 0.0);
}

BOOST_AUTO_TEST_CASE(a_raw_value_has_no_lock)
{
    shared_value<int> raw(3, {.lock = false});
    BOOST_TEST(!raw.synchronized());
    BOOST_CHECK_THROW((void)raw.get_lock(), weft::invalid_state_error);
    raw.set(4);
    BOOST_TEST(raw.get() == 4);
}

BOOST_AUTO_TEST_CASE(an_external_lock_is_the_one_get_lock_returns)
{
    weft::interprocess::lock shared_lock;
    shared_value<int, weft::interprocess::lock> v(0, shared_lock);
    BOOST_TEST(v.get_lock().state_ref().segment() == shared_lock.state_ref().segment());
    weft::process child({.start_method = start_method::forkserver}, add_with_external, v, 2000);
    child.start();
    add_with_external(v, 2000);
    child.join(patience);
    BOOST_TEST(v.get() == 4000);
    // the lock is really shared: held here, the child's view of it is locked
    auto held = shared_lock.guard();
    BOOST_TEST(v.get_lock().locked());
}

BOOST_AUTO_TEST_CASE(pool_tasks_update_one_value)
{
    for (const start_method method : all_methods)
    {
        shared_value<std::int64_t> v(0);
        weft::process_pool_executor pool({.max_workers = 2, .start_method = method});
        std::vector<weft::future<std::int64_t>> results;
        for (int i = 0; i < 100; ++i)
        {
            results.push_back(pool.submit(add_in_task, v));
        }
        std::vector<bool> seen(101, false);
        for (auto& f : results)
        {
            const std::int64_t n = f.result(patience);
            BOOST_REQUIRE(n >= 1 && n <= 100);
            BOOST_TEST(!seen[static_cast<std::size_t>(n)]); // each increment saw its own value
            seen[static_cast<std::size_t>(n)] = true;
        }
        BOOST_TEST(v.get() == 100);
    }
}

BOOST_AUTO_TEST_CASE(nothing_leaks)
{
    const std::size_t before = open_fds();
    const std::size_t live = weft::detail::shared_segment::live_count();
    {
        shared_value<int> v(1);
        shared_value<int, weft::interprocess::lock> w(2, weft::interprocess::lock());
        weft::process child({.start_method = start_method::spawn}, add_many,
                            shared_value<std::int64_t>(0), 10);
        child.start();
        child.join(patience);
    }
    BOOST_TEST(weft::detail::shared_segment::live_count() == live);
    BOOST_TEST(open_fds() == before);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
