// Named shared memory (Python's SharedMemory, and shared_value/shared_array with a name): other
// processes open it by name; the maker owns the name and removes it exactly once (unlink(), its
// last handle, or its keeper when it is killed); others and forked children never remove it;
// bad names, taken names and missing names give clear errors; nothing is left in /dev/shm.
#define BOOST_TEST_MODULE shared_memory
#define BOOST_TEST_NO_MAIN
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <system_error>

#include "../processes/pool_test_support.hpp"
#include "executors/shared/detail/name_keeper.hpp"

using namespace std::chrono_literals;
using weft::shared_array;
using weft::shared_memory;
using weft::shared_value;
using weft::start_method;
using weft::test::all_methods;
using weft::test::patience;

namespace
{

std::string unique_name(const std::string& tag)
{
    return "/weft-test-" + std::to_string(::getpid()) + "-" + tag;
}

bool name_exists(const std::string& name)
{
    return std::filesystem::exists("/dev/shm" + name);
}

// Waits (bounded) until `name` is gone from /dev/shm.
bool name_goes(const std::string& name)
{
    const auto until = std::chrono::steady_clock::now() + patience;
    while (name_exists(name))
    {
        if (std::chrono::steady_clock::now() > until)
        {
            return false;
        }
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

void write_by_name(std::string name, std::string text)
{
    shared_memory memory = shared_memory::open(name);
    if (memory.owner())
    {
        throw std::logic_error("an opener must not own the name");
    }
    std::memcpy(memory.data(), text.data(), text.size());
}

void try_unlink_by_name(std::string name)
{
    shared_memory memory = shared_memory::open(name);
    try
    {
        memory.unlink();
    }
    catch (const weft::invalid_state_error&)
    {
        return; // refused, as it must be
    }
    throw std::logic_error("a process that opened a name was let remove it");
}

void add_by_name(std::string name, int times)
{
    auto v = shared_value<std::int64_t>::open(name);
    for (int i = 0; i < times; ++i)
    {
        auto held = v.get_lock().guard();
        v.raw() += 1;
    }
}

// Makes `name`, then waits to be killed.
void make_and_hang(std::string name, std::string ready_path)
{
    shared_memory memory = shared_memory::create(name, 4096);
    memory.data()[0] = std::byte{42};
    weft::test::report_pid_and_hang(ready_path);
}

// Makes `name`, fails to make it again, then waits to be killed: the failed attempt must not
// have dropped the first one's keeping.
void make_twice_and_hang(std::string name, std::string ready_path)
{
    shared_memory memory = shared_memory::create(name, 4096);
    try
    {
        (void)shared_memory::create(name, 4096);
    }
    catch (const std::system_error&)
    {
        weft::test::report_pid_and_hang(ready_path);
    }
}

std::int64_t sum_array(shared_array<std::int32_t> a)
{
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
    {
        sum += a.get(i);
    }
    return sum;
}

void bump_value(shared_value<int> v)
{
    auto held = v.get_lock().guard();
    v.raw() += 10;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(named, weft::test::leak_check)

BOOST_AUTO_TEST_CASE(create_open_and_see_the_same_bytes)
{
    const std::string name = unique_name("bytes");
    {
        shared_memory made = shared_memory::create(name, 100);
        BOOST_TEST(made.name() == name);
        BOOST_TEST(made.size() == 100u);
        BOOST_TEST(made.owner());
        BOOST_TEST(name_exists(name));
        BOOST_TEST(std::to_integer<int>(made.bytes()[99]) == 0); // zero-filled

        shared_memory opened = shared_memory::open(name.substr(1)); // "x" is "/x"
        opened.data()[5] = std::byte{7};
        BOOST_TEST(std::to_integer<int>(made.data()[5]) == 7);

        for (const start_method method : all_methods)
        {
            weft::process child({.start_method = method}, write_by_name, name,
                                std::string("hello"));
            child.start();
            child.join(patience);
            BOOST_TEST(child.exitcode().value_or(-1) == 0);
            BOOST_TEST(std::memcmp(made.data(), "hello", 5) == 0);
            std::memset(made.data(), 0, 5);
        }
    }
    BOOST_TEST(!name_exists(name)); // the owner's last handle removed it
}

BOOST_AUTO_TEST_CASE(errors_are_clear)
{
    const std::string name = unique_name("taken");
    shared_memory made = shared_memory::create(name, 10);
    const std::size_t kept = weft::detail::name_keeper::kept_count();
    try
    {
        (void)shared_memory::create(name, 10);
        BOOST_FAIL("a taken name was made again");
    }
    catch (const std::system_error& e)
    {
        BOOST_TEST((e.code() == std::errc::file_exists));
    }
    BOOST_TEST(weft::detail::name_keeper::kept_count() == kept);
    try
    {
        (void)shared_memory::open(unique_name("missing"));
        BOOST_FAIL("a missing name was opened");
    }
    catch (const std::system_error& e)
    {
        BOOST_TEST((e.code() == std::errc::no_such_file_or_directory));
    }
    for (const char* bad : {"", "/", "a/b", "/a/b", "..", "."})
    {
        BOOST_CHECK_THROW((void)shared_memory::create(bad, 1), std::invalid_argument);
        BOOST_CHECK_THROW((void)shared_memory::open(bad), std::invalid_argument);
    }
    BOOST_CHECK_THROW((void)shared_memory::create(std::string(300, 'x'), 1), std::invalid_argument);
    // A failed create leaves no hidden name behind.
    BOOST_TEST(made.owner());
}

BOOST_AUTO_TEST_CASE(only_the_owner_removes_the_name_exactly_once)
{
    const std::string name = unique_name("once");
    shared_memory made = shared_memory::create(name, 64);
    // An opener in another process may not remove it.
    weft::process opener({.start_method = start_method::spawn}, try_unlink_by_name, name);
    opener.start();
    opener.join(patience);
    BOOST_TEST(opener.exitcode().value_or(-1) == 0);
    BOOST_TEST(name_exists(name));

    // A forked child inherits the owner's handle but not the ownership: its copy going away
    // (the child exits) leaves the name.
    weft::process forked(
        {.start_method = start_method::fork},
        +[](shared_memory inherited)
        {
            if (inherited.owner())
            {
                throw std::logic_error("a forked child must not own its parent's name");
            }
        },
        made);
    forked.start();
    forked.join(patience);
    BOOST_TEST(forked.exitcode().value_or(-1) == 0);
    BOOST_TEST(name_exists(name));

    made.unlink();
    BOOST_TEST(!name_exists(name));
    made.data()[0] = std::byte{1}; // the memory stays while handles do
    // Someone else makes the name again: the first owner's later unlink and its last handle
    // leave the new one alone.
    shared_memory again = shared_memory::create(name, 64);
    made.unlink();
    made = shared_memory::open(name); // drops the first segment, the old owner's last handle
    BOOST_TEST(name_exists(name));
    BOOST_TEST((!made.owner() || made.data() == again.data())); // same process: one mapping
    again.unlink();
    BOOST_TEST(!name_exists(name));
}

BOOST_AUTO_TEST_CASE(a_killed_owner_leaves_no_name)
{
    for (const start_method method : all_methods)
    {
        const std::string name = unique_name("killed");
        const std::string ready = weft::test::fresh_temp_path("named_owner");
        weft::process owner({.start_method = method}, make_and_hang, name, ready);
        owner.start();
        const pid_t pid = weft::test::wait_for_pid_file(ready);
        BOOST_REQUIRE(pid > 0);
        BOOST_TEST(name_exists(name));
        {
            shared_memory seen = shared_memory::open(name);
            BOOST_TEST(std::to_integer<int>(seen.data()[0]) == 42);
            BOOST_TEST(!seen.owner());
        }
        ::kill(pid, SIGKILL);
        owner.join(patience);
        BOOST_TEST(name_goes(name), "the keeper removed a SIGKILLed owner's name");
        std::filesystem::remove(ready);
    }
}

BOOST_AUTO_TEST_CASE(a_failed_second_create_keeps_the_first_name_kept)
{
    const std::string name = unique_name("twice");
    const std::string ready = weft::test::fresh_temp_path("named_twice");
    weft::process owner({.start_method = start_method::spawn}, make_twice_and_hang, name, ready);
    owner.start();
    const pid_t pid = weft::test::wait_for_pid_file(ready);
    BOOST_REQUIRE(pid > 0);
    BOOST_TEST(name_exists(name));
    ::kill(pid, SIGKILL);
    owner.join(patience);
    BOOST_TEST(name_goes(name), "the keeper removed the name after a failed second create");
    std::filesystem::remove(ready);
}

BOOST_AUTO_TEST_CASE(named_value_opened_by_other_processes)
{
    const std::string name = unique_name("value");
    {
        shared_value<std::int64_t> v(0, {.name = name});
        BOOST_TEST(v.name() == name);
        std::vector<weft::process> children;
        for (const start_method method : all_methods)
        {
            children.emplace_back(weft::process::options{.start_method = method}, add_by_name, name,
                                  2000);
        }
        for (auto& child : children)
        {
            child.start();
        }
        add_by_name(name, 2000);
        for (auto& child : children)
        {
            child.join(patience);
            BOOST_TEST(child.exitcode().value_or(-1) == 0);
        }
        BOOST_TEST(v.get() == 8000);

        // Wrong type or lock kind: refused, not misread.
        BOOST_CHECK_THROW((void)shared_value<std::int32_t>::open(name), std::runtime_error);
        BOOST_CHECK_THROW((void)(shared_value<std::int64_t, weft::interprocess::lock>::open(name)),
                          std::runtime_error);
        BOOST_CHECK_THROW((void)shared_array<std::int64_t>::open(name), std::runtime_error);
        BOOST_CHECK_THROW((void)shared_value<std::int64_t>(1, {.name = name}), std::system_error);
    }
    BOOST_TEST(!name_exists(name));
}

BOOST_AUTO_TEST_CASE(named_raw_value_and_array)
{
    const std::string value_name = unique_name("raw");
    const std::string array_name = unique_name("array");
    shared_value<double> raw(2.5, {.lock = false, .name = value_name});
    auto opened = shared_value<double>::open(value_name);
    BOOST_TEST(!opened.synchronized());
    opened.set(4.0);
    BOOST_TEST(raw.get() == 4.0);

    shared_array<std::int32_t> a({1, 2, 3, 4}, {.name = array_name});
    auto b = shared_array<std::int32_t>::open(array_name);
    BOOST_TEST(b.size() == 4u);
    BOOST_TEST(b.synchronized());
    b.set(3, 40);
    BOOST_TEST(a.get(3) == 40);
    BOOST_TEST(b.name() == array_name);
}

BOOST_AUTO_TEST_CASE(named_handles_travel_to_pool_tasks)
{
    const std::string name = unique_name("travel");
    shared_value<int> v(1, {.name = name});
    shared_array<std::int32_t> a(std::vector<std::int32_t>{5, 6, 7}, {.name = unique_name("t2")});
    for (const start_method method : all_methods)
    {
        weft::process_pool_executor pool({.max_workers = 1, .start_method = method});
        pool.submit(bump_value, v).result(patience);
        BOOST_TEST(pool.submit(sum_array, a).result(patience) == 18);
    }
    BOOST_TEST(v.get() == 31);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    weft::test::start_forkserver(); // its socket stays open: opened before any case counts
    // The name keeper's pipe stays open as long as this process: opened before any case counts.
    (void)shared_memory::create(unique_name("warm-up"), 1);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
