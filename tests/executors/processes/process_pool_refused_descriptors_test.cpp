// A task whose shared memory descriptors the kernel refuses to pass fails alone, with the
// cause, and the pool's worker goes on serving: tested in a forked child whose descriptors in
// flight are limited to 64.
#define BOOST_TEST_MODULE process_pool_refused_descriptors
#define BOOST_TEST_NO_MAIN
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <signal.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <system_error>

#include "support/many_values.hpp"
#include "support/process_pool_tests.hpp"

namespace
{

int sum_values(many_values many)
{
    int sum = 0;
    for (const auto& v : many.values)
    {
        sum += v.get();
    }
    return sum;
}

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

// In a forked child: a pool whose process may have at most 64 descriptors in flight over Unix
// sockets (the kernel's per-user limit is RLIMIT_NOFILE, unless CAP_SYS_RESOURCE or
// CAP_SYS_ADMIN, dropped here, lift it), sent a task with 300 shared values: its second
// datagram of descriptors fails with ETOOMANYREFS.
void run_refusal(refusal_report& report)
{
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, caps) == 0)
    {
        caps[0].effective &= ~((1U << CAP_SYS_RESOURCE) | (1U << CAP_SYS_ADMIN));
        (void)::syscall(SYS_capset, &header, caps); // before the pool's threads, which inherit it
    }
    process_pool_executor pool({.max_workers = 1, .start_method = start_method::fork});
    const std::vector<pid_t> workers = pool.worker_pids();
    many_values many;
    for (int i = 0; i < 300; ++i)
    {
        many.values.emplace_back(1);
    }
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

} // namespace

BOOST_AUTO_TEST_CASE(refused_descriptors_fail_only_that_task_with_the_cause)
{
    void* memory = ::mmap(nullptr, sizeof(refusal_report), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_REQUIRE(memory != MAP_FAILED);
    auto* report = new (memory) refusal_report();
    std::fflush(nullptr);
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0)
    {
        try
        {
            run_refusal(*report);
        }
        catch (...)
        {
        }
        std::fflush(nullptr);
        ::_exit(0);
    }
    int status = -1;
    const auto until = std::chrono::steady_clock::now() + patience;
    while (::waitpid(child, &status, WNOHANG) == 0)
    {
        if (std::chrono::steady_clock::now() >= until)
        {
            ::kill(child, SIGKILL);
            (void)::waitpid(child, &status, 0);
            break;
        }
        std::this_thread::sleep_for(1ms);
    }
    BOOST_TEST(report->finished == 1);
    BOOST_TEST(report->code == ETOOMANYREFS);
    const std::string what = report->what;
    BOOST_TEST(what.find(std::strerror(ETOOMANYREFS)) != std::string::npos, what);
    BOOST_TEST(what.find("could not be passed to process pool worker") != std::string::npos, what);
    BOOST_TEST(report->plain == 49);
    BOOST_TEST(report->shared == 1);
    BOOST_TEST(report->same_worker == 1);
    ::munmap(memory, sizeof(refusal_report));
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
