// process_cpu_count(): the CPUs of the affinity mask, lowered by a cgroup v2 quota, and the
// pools' default sizes follow it (Python 3.13's process_cpu_count).
#define BOOST_TEST_MODULE process_cpu_count
#define BOOST_TEST_NO_MAIN
#include <sched.h>
#include <thread>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/in_a_forked_child.hpp"

namespace
{

int twice(int x)
{
    return 2 * x;
}

struct one_cpu_report
{
    int finished = 0;
    int cpus = 0;
    int thread_workers = 0;
    int process_workers = 0;
    int answer = 0;
};

} // namespace

BOOST_AUTO_TEST_CASE(counts_the_cpus_this_process_may_use)
{
    const int cpus = weft::process_cpu_count();
    BOOST_TEST(cpus >= 1);
    BOOST_TEST(cpus <= static_cast<int>(std::max(1U, std::thread::hardware_concurrency())));
    cpu_set_t set;
    CPU_ZERO(&set);
    BOOST_REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
    BOOST_TEST(cpus <= CPU_COUNT(&set));
}

// As `taskset -c 0` would run it: one CPU, so one process worker and min(32, 1 + 4) threads.
BOOST_AUTO_TEST_CASE(a_process_pinned_to_one_cpu_gets_pools_of_its_size)
{
    const auto report = weft::testing::in_a_forked_child<one_cpu_report>(
        [](one_cpu_report& r)
        {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(0, &one);
            if (::sched_setaffinity(0, sizeof one, &one) != 0)
            {
                return;
            }
            r.cpus = weft::process_cpu_count();
            weft::thread_pool_executor threads;
            r.thread_workers = threads.max_workers();
            weft::process_pool_executor processes({.start_method = weft::start_method::fork});
            r.process_workers = processes.max_workers();
            r.answer = processes.submit(twice, 21).result();
            r.finished = 1;
        });
    BOOST_TEST(report.finished == 1);
    BOOST_TEST(report.cpus == 1);
    BOOST_TEST(report.thread_workers == 5);
    BOOST_TEST(report.process_workers == 1);
    BOOST_TEST(report.answer == 42);
}

BOOST_AUTO_TEST_CASE(a_cgroup_quota_reads_as_cpus_rounded_up)
{
    using weft::detail::cpus_of_quota;
    BOOST_TEST(!cpus_of_quota("max 100000").has_value());
    BOOST_TEST(cpus_of_quota("200000 100000").value_or(0) == 2);
    BOOST_TEST(cpus_of_quota("150000 100000").value_or(0) == 2);
    BOOST_TEST(cpus_of_quota("50000 100000").value_or(0) == 1);
    BOOST_TEST(cpus_of_quota("1000 1000000").value_or(0) == 1);
    BOOST_TEST(!cpus_of_quota("").has_value());
    BOOST_TEST(!cpus_of_quota("abc 100000").has_value());
    BOOST_TEST(!cpus_of_quota("0 100000").has_value());
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
