// How shared memory travels: a segment referred to by a process target's or a pool task's
// arguments (or by an initializer's) reaches the other process as the same memory, under the
// three start methods; a segment is released when its last holder lets go; bad descriptors are
// refused.
#define BOOST_TEST_MODULE shared_segment
#define BOOST_TEST_NO_MAIN
#include <atomic>
#include <cstdint>
#include <dirent.h>
#include <fcntl.h>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <sys/mman.h>

#include "../processes/pool_test_support.hpp"
#include "executors/shared/detail/shared_ref.hpp"

using namespace std::chrono_literals;
using weft::start_method;
using weft::detail::shared_ref;
using weft::detail::shared_segment;
using weft::test::all_methods;

namespace
{

using counter = shared_ref<std::atomic<std::int64_t>>;

counter make_counter()
{
    return counter::make(0, 0);
}

void add_in_child(counter c, std::int64_t amount)
{
    c->fetch_add(amount);
}

std::int64_t add_in_worker(counter c, std::int64_t amount)
{
    return c->fetch_add(amount) + amount;
}

std::int64_t add_to_both(counter a, counter b, counter again)
{
    a->fetch_add(1);
    b->fetch_add(10);
    again->fetch_add(100); // the same segment as `a`: mapped once in the worker
    return static_cast<std::int64_t>(a.segment() == again.segment());
}

counter g_initialized; // set in each worker by the initializer

void remember(counter c)
{
    g_initialized = c;
}

std::int64_t bump_remembered()
{
    return g_initialized->fetch_add(1) + 1;
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

std::size_t dev_shm_entries()
{
    std::size_t n = 0;
    if (DIR* dir = ::opendir("/dev/shm"))
    {
        while (::readdir(dir) != nullptr)
        {
            ++n;
        }
        ::closedir(dir);
    }
    return n;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_process_target_changes_the_parents_memory_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        counter c = make_counter();
        weft::process p({.start_method = method}, add_in_child, c, std::int64_t{5});
        p.start();
        p.join(weft::test::patience);
        BOOST_TEST(p.exitcode().value_or(-99) == 0);
        BOOST_TEST(c->load() == 5);
    }
}

BOOST_AUTO_TEST_CASE(pool_tasks_share_the_parents_memory_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        counter c = make_counter();
        weft::process_pool_executor pool({.max_workers = 2, .start_method = method});
        std::vector<weft::future<std::int64_t>> results;
        for (int i = 0; i < 200; ++i)
        {
            results.push_back(pool.submit(add_in_worker, c, std::int64_t{1}));
        }
        for (auto& f : results)
        {
            (void)f.result(weft::test::patience);
        }
        BOOST_TEST(c->load() == 200);
        // map chunks carry the segment too
        std::vector<counter> inputs(100, c);
        std::int64_t seen = 0;
        for (std::int64_t v :
             pool.map(add_in_worker, inputs, std::vector<std::int64_t>(100, 2), {.chunksize = 7}))
        {
            seen = std::max(seen, v);
        }
        BOOST_TEST(c->load() == 400);
        BOOST_TEST(seen <= 400);
    }
}

BOOST_AUTO_TEST_CASE(one_segment_passed_twice_is_mapped_once_in_the_worker)
{
    counter a = make_counter();
    counter b = make_counter();
    weft::process_pool_executor pool({.max_workers = 1});
    BOOST_TEST(pool.submit(add_to_both, a, b, a).result(weft::test::patience) == 1);
    BOOST_TEST(a->load() == 101);
    BOOST_TEST(b->load() == 10);
}

BOOST_AUTO_TEST_CASE(an_initializer_hands_shared_memory_to_every_worker)
{
    for (const start_method method : all_methods)
    {
        counter c = make_counter();
        weft::process_pool_executor pool({.max_workers = 2,
                                          .start_method = method,
                                          .initializer = weft::worker_initializer(remember, c),
                                          .max_tasks_per_child = 3}); // replacements get it too
        std::vector<weft::future<std::int64_t>> results;
        for (int i = 0; i < 20; ++i)
        {
            results.push_back(pool.submit(bump_remembered));
        }
        for (auto& f : results)
        {
            (void)f.result(weft::test::patience);
        }
        BOOST_TEST(c->load() == 20);
    }
}

BOOST_AUTO_TEST_CASE(segments_are_released_and_nothing_appears_in_dev_shm)
{
    const std::size_t fds_before = open_fds();
    const std::size_t shm_before = dev_shm_entries();
    const std::size_t live_before = shared_segment::live_count();
    {
        counter c = make_counter();
        counter copy = c;
        BOOST_TEST(shared_segment::live_count() == live_before + 1);
        BOOST_TEST(dev_shm_entries() == shm_before);
        weft::process p({.start_method = start_method::spawn}, add_in_child, copy, std::int64_t{1});
        p.start();
        p.join(weft::test::patience);
        BOOST_TEST(c->load() == 1);
    }
    BOOST_TEST(shared_segment::live_count() == live_before);
    BOOST_TEST(open_fds() == fds_before);
    BOOST_TEST(dev_shm_entries() == shm_before);
}

BOOST_AUTO_TEST_CASE(an_unsealed_descriptor_is_refused)
{
    weft::uring::owned_fd fd(::memfd_create("not-weft", MFD_CLOEXEC));
    BOOST_REQUIRE(fd.valid());
    BOOST_REQUIRE(::ftruncate(fd.get(), 4096) == 0);
    BOOST_CHECK_THROW((void)shared_segment::adopt(std::move(fd)), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(encoding_a_segment_where_descriptors_cannot_go_is_a_clear_error)
{
    counter c = make_counter();
    std::string bytes;
    BOOST_CHECK_THROW(
        {
            weft::detail::wire_writer writer(bytes);
            writer.archive()(c);
        },
        std::logic_error);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
