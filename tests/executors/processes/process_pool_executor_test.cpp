// process_pool_executor: values, exceptions, worker death, max_tasks_per_child, shutdown and
// co_await, each under the three start methods. main() calls weft::main_guard, as every
// program whose pool uses spawn or forkserver must.
#define BOOST_TEST_MODULE process_pool_executor
#define BOOST_TEST_NO_MAIN
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <signal.h>
#include <sstream>
#include <stdexcept>
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

#include "pool_test_support.hpp"

using namespace std::chrono_literals;
using weft::future;
using weft::process_pool_executor;
using weft::start_method;
using weft::task;
using weft::test::all_methods;
using weft::test::patience;
using weft::test::report_pid_and_hang;
using weft::test::wait_for_pid_file;
using weft::test::zombie_children;

namespace
{

struct labelled
{
    std::string label;
    std::vector<int> values;
    template <class Archive>
    void serialize(Archive& archive)
    {
        archive(label, values);
    }
};

struct my_error : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

int square(int x)
{
    return x * x;
}

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

pid_t my_pid()
{
    return ::getpid();
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

void exit_now(int code)
{
    std::fflush(nullptr);
    std::_Exit(code);
}

int sleep_then(int ms, int value)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return value;
}

// Many shared values in one argument: more descriptors than one SCM_RIGHTS datagram carries.
struct many_values
{
    std::vector<weft::shared_value<int>> values;
    template <class Archive>
    void save(Archive& archive) const
    {
        archive(static_cast<std::uint32_t>(values.size()));
        for (const auto& v : values)
        {
            archive(v);
        }
    }
    template <class Archive>
    void load(Archive& archive)
    {
        std::uint32_t n = 0;
        archive(n);
        values.clear();
        for (std::uint32_t i = 0; i < n; ++i)
        {
            weft::shared_value<int> v(weft::detail::unloaded);
            archive(v);
            values.push_back(std::move(v));
        }
    }
};

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

// A hundred rounds under the default start method (forkserver), twenty under the others.
BOOST_AUTO_TEST_CASE(kill_9_mid_task_fails_only_that_future_a_hundred_times)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            std::set<pid_t> killed;
            const int rounds = method == start_method::forkserver ? 100 : 20;
            for (int round = 0; round < rounds; ++round)
            {
                const std::string path =
                    (std::filesystem::temp_directory_path() /
                     ("weft_pool_test_" + std::to_string(::getpid()) + "_" + std::to_string(round)))
                        .string();
                std::filesystem::remove(path);
                std::vector<future<int>> before;
                for (int i = 0; i < 10; ++i)
                {
                    before.push_back(pool.submit(square, i));
                }
                auto doomed = pool.submit(report_pid_and_hang, path);
                std::vector<future<int>> after;
                for (int i = 0; i < 10; ++i)
                {
                    after.push_back(pool.submit(square, i));
                }
                const pid_t victim = wait_for_pid_file(path);
                BOOST_REQUIRE(victim > 0);
                BOOST_REQUIRE(::kill(victim, SIGKILL) == 0);
                killed.insert(victim);
                BOOST_CHECK_EXCEPTION(doomed.result(patience), weft::worker_died_error,
                                      [victim](const weft::worker_died_error& e)
                                      {
                                          const std::string what = e.what();
                                          return e.pid() == victim && e.exitcode() == -SIGKILL &&
                                                 what.find(std::to_string(victim)) !=
                                                     std::string::npos &&
                                                 what.find("SIGKILL") != std::string::npos;
                                      });
                for (int i = 0; i < 10; ++i)
                {
                    BOOST_TEST(before[i].result(patience) == i * i);
                    BOOST_TEST(after[i].result(patience) == i * i);
                }
                std::filesystem::remove(path);
            }
            BOOST_TEST(killed.size() == static_cast<std::size_t>(rounds));
            // Replacements keep the pool at its size, and none of the killed is left a zombie.
            BOOST_TEST(pool.worker_pids().size() == 2U);
            BOOST_TEST(zombie_children() == 0);
            pool.shutdown(true);
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_worker_that_exits_mid_task_fails_that_future_with_the_code)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            auto gone = pool.submit(exit_now, 3);
            auto next = pool.submit(square, 4);
            BOOST_CHECK_EXCEPTION(gone.result(patience), weft::worker_died_error,
                                  [](const weft::worker_died_error& e)
                                  {
                                      return e.exitcode() == 3 &&
                                             std::string(e.what()).find("exited with code 3") !=
                                                 std::string::npos;
                                  });
            BOOST_TEST(next.result(patience) == 16);
        }
    }
}

BOOST_AUTO_TEST_CASE(max_tasks_per_child_replaces_workers)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool(
                {.max_workers = 1, .start_method = method, .max_tasks_per_child = 2});
            std::vector<pid_t> pids;
            for (int i = 0; i < 6; ++i)
            {
                pids.push_back(pool.submit(my_pid).result(patience));
            }
            // Two tasks per worker: three different workers, in pairs.
            BOOST_TEST(pids[0] == pids[1]);
            BOOST_TEST(pids[2] == pids[3]);
            BOOST_TEST(pids[4] == pids[5]);
            BOOST_TEST(std::set<pid_t>(pids.begin(), pids.end()).size() == 3U);
            pool.shutdown(true);
            BOOST_TEST(zombie_children() == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(shutdown_with_cancel_futures_cancels_what_has_not_started)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            std::vector<future<int>> futures;
            for (int i = 0; i < 20; ++i)
            {
                futures.push_back(pool.submit(sleep_then, 20, i));
            }
            pool.shutdown(true, true);
            int cancelled = 0;
            for (int i = 0; i < 20; ++i)
            {
                BOOST_TEST(futures[i].done());
                if (futures[i].cancelled())
                {
                    ++cancelled;
                }
                else
                {
                    BOOST_TEST(futures[i].result(patience) == i);
                }
            }
            // At most the few written ahead into the worker's ring ran.
            BOOST_TEST(cancelled >= 10);
            BOOST_CHECK_THROW((void)pool.submit(square, 1), weft::invalid_state_error);
            pool.shutdown(true); // idempotent
        }
    }
}

BOOST_AUTO_TEST_CASE(shutdown_without_wait_lets_running_calls_finish)
{
    process_pool_executor pool({.max_workers = 2});
    auto slow = pool.submit(sleep_then, 50, 8);
    pool.shutdown(false);
    BOOST_CHECK_THROW((void)pool.submit(square, 1), weft::invalid_state_error);
    BOOST_TEST(slow.result(patience) == 8);
}

BOOST_AUTO_TEST_CASE(destructor_waits_for_submitted_calls)
{
    future<int> f;
    {
        process_pool_executor pool({.max_workers = 1});
        f = pool.submit(sleep_then, 30, 5);
    }
    BOOST_TEST(f.done());
    BOOST_TEST(f.result(patience) == 5);
    BOOST_TEST(zombie_children() == 0);
}

BOOST_AUTO_TEST_CASE(co_await_of_a_pool_future_from_an_event_loop)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 2, .start_method = method});
            weft::event_loop loop;
            const int got = loop.run(
                [](process_pool_executor& p) -> task<int>
                {
                    int a = co_await p.submit(square, 6);
                    int b = co_await p.submit(sleep_then, 10, 4);
                    co_return a + b;
                }(pool));
            BOOST_TEST(got == 40);
        }
    }
}

// A thread blocked in result() collects the pool's results itself: several threads waiting at
// once on calls of the same two workers, waits that time out and wait again, a callback on a
// call nobody waits for, and a future that outlives its pool.
BOOST_AUTO_TEST_CASE(threads_blocked_in_result_collect_for_each_other)
{
    future<int> outlives;
    {
        process_pool_executor pool({.max_workers = 2});
        std::atomic<int> called{0};
        auto unwatched = pool.submit(sleep_then, 20, 7);
        unwatched.add_done_callback([&called](const future<int>& f) { called += f.result(); });
        std::atomic<int> wrong{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
        {
            threads.emplace_back(
                [&pool, &wrong, t]
                {
                    for (int i = 0; i < 300; ++i)
                    {
                        const int value = t * 1000 + i;
                        auto f = pool.submit(sleep_then, i % 100 == 0 ? 100 : 0, value);
                        if (i % 100 == 0 && f.wait_for(1ms))
                        {
                            ++wrong; // cannot be done yet
                        }
                        if (f.result(patience) != value)
                        {
                            ++wrong;
                        }
                    }
                });
        }
        for (auto& thread : threads)
        {
            thread.join();
        }
        BOOST_TEST(wrong.load() == 0);
        const auto until = std::chrono::steady_clock::now() + patience;
        while (called.load() == 0 && std::chrono::steady_clock::now() < until)
        {
            std::this_thread::sleep_for(1ms);
        }
        BOOST_TEST(called.load() == 7);
        outlives = pool.submit(sleep_then, 20, 3);
    }
    BOOST_TEST(outlives.done());
    BOOST_TEST(outlives.result(patience) == 3);
}

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
