// The kernel bounds the descriptors a user has in flight over Unix sockets (sent, not yet
// received) by the sender's RLIMIT_NOFILE. A task whose own descriptors exceed it fails alone,
// with the cause, and the pool goes on serving; one refused only because its worker has not yet
// received earlier tasks' descriptors waits for them instead. Tested in forked children whose
// limit is lowered, under each start method. Under UndefinedBehaviorSanitizer the child prints
// "invalid vptr" reports while all its descriptors are in use: the sanitizer checks that memory is
// readable by writing it into a pipe it cannot open then, and reports even objects on the stack (no
// halt follows).
#define BOOST_TEST_MODULE process_pool_refused_descriptors
#define BOOST_TEST_NO_MAIN
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <system_error>

#include "support/in_a_forked_child.hpp"
#include "support/many_values.hpp"
#include "support/nap_then_sum.hpp"
#include "support/process_pool_tests.hpp"

using weft::testing::nap_then_sum;
using weft::testing::sum_values;

namespace
{

int increment(weft::shared_value<int> v)
{
    v.set(v.get() + 1);
    return v.get();
}

// What the child of refused_descriptors_fail_only_that_task saw, in memory shared with it.
struct refusal_report
{
    int finished = 0;
    int code = 0; // the refused task's std::system_error code (0: it failed otherwise, or not)
    char what[512] = {};
    int plain = 0;       // a task without shared memory, submitted after the refusal
    int shared = 0;      // a task with one shared value, once the limit is back
    int same_worker = 0; // the pool's worker is the one it started with
};

// What the child of descriptors_refused_while_in_flight_wait_for_the_worker saw.
struct waiting_report
{
    int finished = 0;
    int sums[4] = {}; // of the four tasks behind the nap (200 each when they ran)
    char what[512] = {};
};

void drop_resource_capabilities()
{
    // CAP_SYS_RESOURCE and CAP_SYS_ADMIN lift the kernel's limit; dropped before the pool's
    // threads start, which inherit the set.
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, caps) == 0)
    {
        caps[0].effective &= ~((1U << CAP_SYS_RESOURCE) | (1U << CAP_SYS_ADMIN));
        (void)::syscall(SYS_capset, &header, caps);
    }
}

// Runs `body` on a report of type R in a forked child without the capabilities that lift the
// descriptor limit, killed past `patience`.
template <class R, class Body>
R in_a_child(Body body)
{
    return weft::testing::in_a_forked_child<R>(
        [&body](R& report)
        {
            drop_resource_capabilities();
            body(report);
        },
        {.limit = patience});
}

// In a forked child: a pool whose process may have at most 64 descriptors in flight, sent a
// task with 300 shared values: its second datagram of descriptors fails with ETOOMANYREFS.
// The first went and stays in the worker's socket until its next receive drops it.
void run_refusal(start_method method, refusal_report& report)
{
    process_pool_executor pool({.max_workers = 1, .start_method = method});
    const std::vector<pid_t> workers = pool.worker_pids();
    const many_values many = ones(300);
    rlimit normal{};
    (void)::getrlimit(RLIMIT_NOFILE, &normal);
    const rlimit low{64, normal.rlim_max}; // the descriptors open already stay open
    (void)::setrlimit(RLIMIT_NOFILE, &low);
    auto doomed = pool.submit(sum_values, many);
    try
    {
        (void)doomed.result(patience);
    }
    catch (const std::system_error& e)
    {
        report.code = e.code().value();
        std::strncpy(report.what, e.what(), sizeof report.what - 1);
    }
    catch (const std::exception& e)
    {
        std::strncpy(report.what, e.what(), sizeof report.what - 1);
    }
    report.plain = pool.submit(square, 7).result(patience);
    (void)::setrlimit(RLIMIT_NOFILE, &normal);
    weft::shared_value<int> one(41);
    report.shared = pool.submit(increment, one).result(patience) == 42 && one.get() == 42;
    report.same_worker = pool.worker_pids() == workers;
    report.finished = 1;
}

// In a forked child: a pool whose process may have at most 300 descriptors in flight, its
// worker napping, is sent four tasks of 200 shared values that it writes behind the nap (the
// function was timed short): the first two go (200, then 400 in flight), the third is refused
// until the worker has received theirs. It must wait for that, not fail.
void run_waiting(start_method method, waiting_report& report)
{
    process_pool_executor pool({.max_workers = 1, .start_method = method});
    for (int i = 0; i < 100; ++i)
    {
        (void)pool.submit(nap_then_sum, 0, ones(1)).result(patience);
    }
    const many_values shared = ones(200);
    rlimit normal{};
    (void)::getrlimit(RLIMIT_NOFILE, &normal);
    const rlimit low{300, normal.rlim_max}; // the descriptors open already stay open
    (void)::setrlimit(RLIMIT_NOFILE, &low);
    auto napping = pool.submit(nap_then_sum, 300, many_values{});
    std::vector<future<int>> behind;
    for (int i = 0; i < 4; ++i)
    {
        behind.push_back(pool.submit(nap_then_sum, 0, shared));
    }
    (void)napping.result(patience);
    for (std::size_t i = 0; i < behind.size(); ++i)
    {
        try
        {
            report.sums[i] = behind[i].result(patience);
        }
        catch (const std::exception& e)
        {
            report.sums[i] = -1;
            std::strncpy(report.what, e.what(), sizeof report.what - 1);
        }
    }
    (void)::setrlimit(RLIMIT_NOFILE, &normal);
    report.finished = 1;
}

} // namespace

BOOST_AUTO_TEST_CASE(refused_descriptors_fail_only_that_task_with_the_cause)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            const auto report =
                in_a_child<refusal_report>([method](refusal_report& r) { run_refusal(method, r); });
            BOOST_TEST(report.finished == 1);
            BOOST_TEST(report.code == ETOOMANYREFS);
            const std::string what = report.what;
            BOOST_TEST(what.find(std::strerror(ETOOMANYREFS)) != std::string::npos, what);
            BOOST_TEST(what.find("could not be passed to process pool worker") != std::string::npos,
                       what);
            BOOST_TEST(what.find("RLIMIT_NOFILE (64)") != std::string::npos, what);
            BOOST_TEST(report.plain == 49);
            BOOST_TEST(report.shared == 1);
            BOOST_TEST(report.same_worker == 1);
        }
    }
}

// ETOOMANYREFS is transient while the worker holds descriptors it has not received yet: the
// task waits until the worker is idle (it failed).
BOOST_AUTO_TEST_CASE(descriptors_refused_while_in_flight_wait_for_the_worker)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            const auto report =
                in_a_child<waiting_report>([method](waiting_report& r) { run_waiting(method, r); });
            BOOST_TEST(report.finished == 1);
            for (const int sum : report.sums)
            {
                BOOST_TEST(sum == 200, report.what);
            }
        }
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
