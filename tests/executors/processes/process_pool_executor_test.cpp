// process_pool_executor: values, strings, vectors and user types there and back, many tasks,
// messages larger than the ring, exceptions, and the options it refuses, each under the three
// start methods. Worker death, shutdown, waiting and refused descriptors:
// process_pool_{worker_death,shutdown,waiting,refused_descriptors}_test.cpp. main() calls
// weft::main_guard, as every program whose pool uses spawn or forkserver must.
#define BOOST_TEST_MODULE process_pool_executor
#define BOOST_TEST_NO_MAIN
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fcntl.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <sys/wait.h>
#include <system_error>

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

struct bad_input : std::invalid_argument
{
    using std::invalid_argument::invalid_argument;
};

struct io_failure : std::system_error
{
    using std::system_error::system_error;
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

// A standard exception that came back as itself: of type T exactly, but for the worker's
// backtrace nested in it (std::throw_with_nested derives from T), and no weft wrapper.
template <class T>
bool only(const T& e)
{
    const auto nested_type = [&e]() -> const std::type_info&
    {
        try
        {
            std::throw_with_nested(T(e));
        }
        catch (const T& nested)
        {
            return typeid(nested);
        }
    };
    return dynamic_cast<const weft::remote_exception*>(&e) == nullptr &&
           (typeid(e) == typeid(T) || typeid(e) == nested_type());
}

// Three calls deep, each kept out of its caller, so that the backtrace has them all.
[[gnu::noinline]] int throw_from_the_bottom(int depth)
{
    if (depth > 0)
    {
        throw std::runtime_error("at the bottom");
    }
    return depth;
}

[[gnu::noinline]] int throw_from_the_middle(int depth)
{
    return throw_from_the_bottom(depth + 1) + 1;
}

[[gnu::noinline]] int throw_from_the_top(int depth)
{
    return throw_from_the_middle(depth) + 1;
}

// Thrown inside libstdc++ (std::vector::at), on the task's behalf.
[[gnu::noinline]] int read_past_the_end(int index)
{
    const std::vector<int> three = {1, 2, 3};
    return three.at(static_cast<std::size_t>(index));
}

// The worker's backtrace nested in the exception `f` rethrows, or "" without one.
template <class Rethrow>
std::string nested_backtrace(Rethrow f)
{
    try
    {
        f();
    }
    catch (const std::exception& e)
    {
        try
        {
            std::rethrow_if_nested(e);
        }
        catch (const weft::remote_backtrace& trace)
        {
            return trace.frames();
        }
    }
    return "";
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
    if (kind == "system")
        throw std::system_error(std::make_error_code(std::errc::no_such_file_or_directory),
                                "opening x");
    if (kind == "bad input")
        throw bad_input("b");
    if (kind == "io failure")
        throw io_failure(ECONNRESET, std::system_category(), "reading");
    if (kind == "optional")
        return (void)std::optional<int>().value();
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

// Nobody blocks in result() here: the collector thread reads the result a ring at a time and
// must wake the worker, which waits for room, each time it made some.
BOOST_AUTO_TEST_CASE(a_result_larger_than_the_ring_that_nobody_waits_on_streams_through)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            auto back = pool.submit(big_bytes, 5 << 20);
            const auto give_up = std::chrono::steady_clock::now() + patience;
            while (!back.done() && std::chrono::steady_clock::now() < give_up)
            {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            BOOST_TEST_REQUIRE(back.done());
            BOOST_TEST((back.result() == big_bytes(5 << 20)));
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
                                      return only<std::runtime_error>(e) &&
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
                [](const std::logic_error& e) { return only<std::logic_error>(e); });
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

// Python chains the worker's traceback to a remote exception; weft nests the worker's backtrace
// in it, most recent call first, from the throw down to the task (weft's own frames left out).
BOOST_AUTO_TEST_CASE(a_remote_exception_carries_the_workers_backtrace)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            const std::string frames = nested_backtrace(
                [&pool] { (void)pool.submit(throw_from_the_top, 0).result(patience); });
            const auto bottom = frames.find("throw_from_the_bottom");
            const auto middle = frames.find("throw_from_the_middle");
            const auto top = frames.find("throw_from_the_top");
            BOOST_TEST(frames.starts_with("  #0 "), frames);
            BOOST_TEST((bottom < middle && middle < top && top != std::string::npos), frames);
            BOOST_TEST(frames.find("process_pool_executor_test.cpp:") != std::string::npos,
                       frames); // the build has debug information
            BOOST_TEST(frames.find("weft::detail::") == std::string::npos, frames);
            BOOST_TEST(frames.find("std::apply") == std::string::npos, frames);

            const std::string from_the_library = nested_backtrace(
                [&pool] { (void)pool.submit(read_past_the_end, 3).result(patience); });
            BOOST_TEST(from_the_library.find("read_past_the_end") != std::string::npos,
                       from_the_library);

            // A user type comes back as weft::remote_error, or as weft::remote_error_as<Base>
            // when it derives from a standard Base, with the same.
            const std::string user = nested_backtrace(
                [&pool] { (void)pool.submit(throw_named, std::string("mine")).result(patience); });
            BOOST_TEST(user.find("throw_named") != std::string::npos, user);
            const std::string derived = nested_backtrace(
                [&pool]
                { (void)pool.submit(throw_named, std::string("bad input")).result(patience); });
            BOOST_TEST(derived.find("throw_named") != std::string::npos, derived);
        }
    }
}

// A std::system_error keeps its code; a user type derived from a standard type other than
// std::runtime_error is still of that type here (Python recreates the very class): catch
// clauses match as they would have in the worker.
BOOST_AUTO_TEST_CASE(error_codes_and_standard_bases_cross_the_boundary)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            process_pool_executor pool({.max_workers = 1, .start_method = method});
            BOOST_CHECK_EXCEPTION(
                pool.submit(throw_named, std::string("system")).result(patience), std::system_error,
                [](const std::system_error& e)
                {
                    return only<std::system_error>(e) &&
                           e.code() == std::errc::no_such_file_or_directory &&
                           std::string(e.what()) ==
                               "opening x: " + std::generic_category().message(ENOENT);
                });
            BOOST_CHECK_EXCEPTION(
                pool.submit(throw_named, std::string("bad input")).result(patience),
                std::logic_error,
                [](const std::logic_error& e)
                {
                    const auto* remote = dynamic_cast<const weft::remote_exception*>(&e);
                    return dynamic_cast<const std::invalid_argument*>(&e) != nullptr &&
                           remote != nullptr &&
                           remote->type_name() == "(anonymous namespace)::bad_input" &&
                           remote->message() == "b" &&
                           std::string(e.what()) == "(anonymous namespace)::bad_input: b";
                });
            BOOST_CHECK_EXCEPTION(
                pool.submit(throw_named, std::string("io failure")).result(patience),
                weft::remote_error_as<std::system_error>,
                [](const weft::remote_error_as<std::system_error>& e)
                {
                    return e.code() == std::error_code(ECONNRESET, std::system_category()) &&
                           e.type_name() == "(anonymous namespace)::io_failure";
                });
            BOOST_CHECK_EXCEPTION(
                pool.submit(throw_named, std::string("optional")).result(patience),
                std::bad_optional_access,
                [](const std::bad_optional_access& e)
                { return only<std::bad_optional_access>(e); });
            // What catches every user type: the same for one without a standard base.
            BOOST_CHECK_EXCEPTION(pool.submit(throw_named, std::string("int")).result(patience),
                                  weft::remote_exception,
                                  [](const weft::remote_exception& e)
                                  { return e.type_name() == "int"; });
        }
    }
}

// A fork pool made while a thread of the program runs warns once on stderr, as process::start()
// does (the seeds' held-lock hang); the pool's own threads do not count. In a spawned child,
// which has not warned yet (the flag is per process, and this one may have: under
// ThreadSanitizer its own thread counts).
void fork_pool_beside_a_thread()
{
    std::atomic<bool> done{false};
    std::thread busy(
        [&done]
        {
            while (!done.load())
            {
                std::this_thread::sleep_for(1ms);
            }
        });
    int nine = 0;
    {
        process_pool_executor pool({.max_workers = 1, .start_method = start_method::fork});
        nine = pool.submit(square, 3).result(patience);
    }
    done = true;
    busy.join();
    if (nine != 9)
    {
        throw std::runtime_error("the fork pool did not answer");
    }
}

namespace
{

void fork_process_beside_a_thread()
{
    std::atomic<bool> done{false};
    std::thread busy(
        [&done]
        {
            while (!done.load())
            {
                std::this_thread::sleep_for(1ms);
            }
        });
    weft::process child({.start_method = start_method::fork}, weft::testing::exit_with, 0);
    child.start();
    child.join();
    done = true;
    busy.join();
    if (child.exitcode().value_or(-1) != 0)
    {
        throw std::runtime_error("the fork child failed");
    }
}

// Runs `target` in a spawned child (a fresh process: the warning is given once per process)
// and returns what it wrote to stderr; the child must exit 0.
std::string stderr_of_a_child_running(void (*target)())
{
    int pipe_fds[2];
    BOOST_TEST_REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    std::fflush(nullptr);
    const int saved = ::fcntl(2, F_DUPFD_CLOEXEC, 0);
    BOOST_TEST_REQUIRE(saved >= 0);
    ::dup2(pipe_fds[1], 2); // what the spawned child inherits as its stderr
    weft::process child({.start_method = start_method::spawn}, target);
    try
    {
        child.start();
    }
    catch (...)
    {
        ::dup2(saved, 2);
        throw;
    }
    ::dup2(saved, 2);
    ::close(saved);
    ::close(pipe_fds[1]);
    std::string said;
    char buffer[512];
    for (ssize_t n = 0; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;)
    {
        said.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]);
    child.join();
    BOOST_TEST(child.exitcode().value_or(-1000) == 0, said);
    return said;
}

// In a spawned child: a process under `method` whose target throws, joined; its report goes to
// the stderr it inherited.
template <start_method method>
void run_a_throwing_process()
{
    weft::process child({.start_method = method}, throw_from_the_top, 0);
    child.start();
    child.join();
}

// A process target through which a pool task's exception escapes.
void let_a_pool_exception_escape()
{
    weft::process_pool_executor pool({.max_workers = 1});
    (void)pool.submit(throw_from_the_top, 0).result(patience);
}

void run_a_process_that_passes_on_a_pool_exception()
{
    weft::process child({.start_method = start_method::spawn}, let_a_pool_exception_escape);
    child.start();
    child.join();
}

} // namespace

// A remote exception passed on from a process is reported under its own type's name, with the
// backtrace of the worker that first threw it.
BOOST_AUTO_TEST_CASE(a_remote_exception_passed_on_keeps_its_name_and_first_backtrace)
{
    const std::string said =
        stderr_of_a_child_running(run_a_process_that_passes_on_a_pool_exception);
    BOOST_TEST(said.find(": std::runtime_error: at the bottom\n  #0 ") != std::string::npos, said);
    BOOST_TEST(said.find("throw_from_the_bottom") != std::string::npos, said);
    BOOST_TEST(said.find("_Nested_exception") == std::string::npos, said);
}

// Python prints the traceback of a process target's uncaught exception; weft its backtrace.
BOOST_AUTO_TEST_CASE(a_process_whose_target_throws_prints_its_backtrace)
{
    for (const auto& [method, run] :
         {std::pair{start_method::fork, &run_a_throwing_process<start_method::fork>},
          std::pair{start_method::spawn, &run_a_throwing_process<start_method::spawn>},
          std::pair{start_method::forkserver, &run_a_throwing_process<start_method::forkserver>}})
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            const std::string said = stderr_of_a_child_running(run);
            BOOST_TEST(said.find(": std::runtime_error: at the bottom\n  #0 ") != std::string::npos,
                       said);
            const auto bottom = said.find("throw_from_the_bottom");
            const auto top = said.find("throw_from_the_top");
            BOOST_TEST((bottom < top && top != std::string::npos), said);
            BOOST_TEST(said.find("weft::detail::") == std::string::npos, said);
            BOOST_TEST(said.find("std::function") == std::string::npos, said);
        }
    }
}

// "1 other thread", or 2 under ThreadSanitizer, whose own thread counts.
BOOST_AUTO_TEST_CASE(a_fork_pool_in_a_threaded_process_warns)
{
    const std::string said = stderr_of_a_child_running(fork_pool_beside_a_thread);
    BOOST_TEST(said.find("weft: warning: start_method::fork in a process with ") !=
                   std::string::npos,
               said);
}

BOOST_AUTO_TEST_CASE(a_fork_process_started_in_a_threaded_process_warns)
{
    const std::string said = stderr_of_a_child_running(fork_process_beside_a_thread);
    BOOST_TEST(said.find("weft: warning: start_method::fork in a process with ") !=
                   std::string::npos,
               said);
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
