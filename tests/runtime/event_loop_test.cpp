#define BOOST_TEST_MODULE event_loop
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "support/run_task.hpp"

using namespace std::chrono_literals;
using weft::event_loop;
using weft::task;

namespace
{

// Suspends until someone calls release(); the resumption goes through the loop's ready queue,
// as a completion posted from another thread would.
struct manual_gate
{
    event_loop* loop = nullptr;
    std::coroutine_handle<> waiting;

    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h)
    {
        loop = event_loop::current();
        waiting = h;
    }
    void await_resume() const noexcept {}
    void release() const { loop->schedule(waiting); }
};

task<int> value_after_sleep(int v)
{
    co_await weft::sleep_for(1ms);
    co_return v;
}

} // namespace

BOOST_AUTO_TEST_CASE(run_returns_the_value_of_its_task)
{
    event_loop loop;
    BOOST_TEST(loop.run(value_after_sleep(9)) == 9);
}

BOOST_AUTO_TEST_CASE(run_can_be_called_again_after_it_returned)
{
    event_loop loop;
    BOOST_TEST(loop.run(value_after_sleep(1)) == 1);
    BOOST_TEST(loop.run(value_after_sleep(2)) == 2);
}

BOOST_AUTO_TEST_CASE(spawn_before_run_starts_when_run_is_called)
{
    event_loop loop;
    bool ran = false;
    loop.spawn(
        [](bool& flag) -> task<void>
        {
            flag = true;
            co_return;
        }(ran));
    BOOST_TEST(!ran);
    loop.run([]() -> task<void> { co_await weft::sleep_for(1ms); }());
    BOOST_TEST(ran);
}

BOOST_AUTO_TEST_CASE(spawned_tasks_interleave_with_the_root_task)
{
    event_loop loop;
    std::string trace;
    loop.spawn(
        [](std::string& out) -> task<void>
        {
            for (int i = 0; i < 3; ++i)
            {
                out += 's';
                co_await weft::yield();
            }
        }(trace));
    loop.run(
        [](std::string& out) -> task<void>
        {
            for (int i = 0; i < 3; ++i)
            {
                out += 'r';
                co_await weft::yield();
            }
        }(trace));
    BOOST_TEST(trace == "srsrsr");
}

BOOST_AUTO_TEST_CASE(post_from_another_thread_wakes_the_sleeping_loop)
{
    event_loop loop;
    manual_gate gate;
    std::atomic<bool> suspended{false};
    std::thread::id ran_on;
    std::jthread poster(
        [&]
        {
            while (!suspended.load())
            {
                std::this_thread::sleep_for(1ms);
            }
            std::this_thread::sleep_for(20ms); // let the loop block in io_uring_enter
            loop.post(
                [&]
                {
                    ran_on = std::this_thread::get_id();
                    gate.release();
                });
        });
    const auto start = std::chrono::steady_clock::now();
    loop.run(
        [](manual_gate& g, std::atomic<bool>& flag) -> task<void>
        {
            flag = true;
            co_await g;
        }(gate, suspended));
    BOOST_TEST((ran_on == std::this_thread::get_id()));
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
}

BOOST_AUTO_TEST_CASE(post_before_run_is_run_by_run)
{
    event_loop loop;
    int calls = 0;
    BOOST_TEST(loop.post([&] { ++calls; }));
    loop.run([]() -> task<void> { co_await weft::sleep_for(10ms); }());
    BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(many_posts_from_several_threads_all_run)
{
    event_loop loop;
    constexpr int per_thread = 10'000;
    int count = 0; // touched only on the loop thread
    std::atomic<int> posted{0};
    {
        std::jthread a(
            [&]
            {
                for (int i = 0; i < per_thread; ++i)
                {
                    loop.post([&] { ++count; });
                    ++posted;
                }
            });
        std::jthread b(
            [&]
            {
                for (int i = 0; i < per_thread; ++i)
                {
                    loop.post([&] { ++count; });
                    ++posted;
                }
            });
        loop.run(
            [](int& c) -> task<void>
            {
                const auto deadline = std::chrono::steady_clock::now() + 20s;
                while (c < 2 * per_thread && std::chrono::steady_clock::now() < deadline)
                {
                    co_await weft::sleep_for(1ms);
                }
            }(count));
    }
    BOOST_TEST(count == 2 * per_thread);
}

BOOST_AUTO_TEST_CASE(stop_from_another_thread_cancels_a_pending_sleep)
{
    event_loop loop;
    std::jthread stopper(
        [&]
        {
            std::this_thread::sleep_for(50ms);
            loop.stop();
        });
    const auto start = std::chrono::steady_clock::now();
    BOOST_CHECK_THROW(loop.run([]() -> task<void> { co_await weft::sleep_for(30s); }()),
                      weft::operation_cancelled);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 10s));
    BOOST_TEST(loop.stopped());
}

BOOST_AUTO_TEST_CASE(after_stop_run_and_spawn_throw_and_post_refuses)
{
    event_loop loop;
    loop.stop();
    BOOST_CHECK_THROW(loop.run(value_after_sleep(1)), weft::invalid_state_error);
    BOOST_CHECK_THROW(loop.spawn([]() -> task<void> { co_return; }()), weft::invalid_state_error);
    bool ran = false;
    BOOST_TEST(!loop.post([&] { ran = true; }));
    BOOST_TEST(!ran);
}

BOOST_AUTO_TEST_CASE(stop_cancels_spawned_tasks_too)
{
    event_loop loop;
    auto cancelled = std::make_shared<int>(0);
    for (int i = 0; i < 10; ++i)
    {
        loop.spawn(
            [](std::shared_ptr<int> c) -> task<void>
            {
                try
                {
                    co_await weft::sleep_for(30s);
                }
                catch (const weft::operation_cancelled&)
                {
                    ++*c;
                }
            }(cancelled));
    }
    loop.run(
        [](event_loop& l) -> task<void>
        {
            co_await weft::sleep_for(10ms);
            l.stop();
            try
            {
                co_await weft::sleep_for(30s);
            }
            catch (const weft::operation_cancelled&)
            {
            }
            // Give the cancelled sleepers their turn to run their handlers.
            co_await weft::yield();
        }(loop));
    BOOST_TEST(*cancelled == 10);
}

BOOST_AUTO_TEST_CASE(exception_escaping_a_spawned_task_reaches_the_handler)
{
    event_loop loop;
    std::string seen;
    loop.set_unhandled_exception_handler(
        [&](std::exception_ptr e)
        {
            try
            {
                std::rethrow_exception(e);
            }
            catch (const std::exception& ex)
            {
                seen = ex.what();
            }
        });
    loop.spawn(
        []() -> task<void>
        {
            co_await weft::yield();
            throw std::runtime_error("lost?");
        }());
    loop.run([]() -> task<void> { co_await weft::sleep_for(5ms); }());
    BOOST_TEST(seen == "lost?");
}

BOOST_AUTO_TEST_CASE(loop_destroyed_with_pending_tasks_frees_their_frames)
{
    auto alive = std::make_shared<int>(0);
    {
        event_loop loop;
        for (int i = 0; i < 100; ++i)
        {
            loop.spawn(
                [](std::shared_ptr<int> keep) -> task<void>
                {
                    co_await weft::sleep_for(1h);
                    ++*keep;
                }(alive));
        }
        loop.run([]() -> task<void> { co_await weft::sleep_for(1ms); }());
        BOOST_TEST(alive.use_count() == 101);
    }
    BOOST_TEST(alive.use_count() == 1);
    BOOST_TEST(*alive == 0);
}

BOOST_AUTO_TEST_CASE(run_inside_run_is_an_error)
{
    event_loop loop;
    const auto nested = [](event_loop& l) -> task<bool>
    {
        try
        {
            l.run(value_after_sleep(1));
        }
        catch (const weft::invalid_state_error&)
        {
            co_return true;
        }
        co_return false;
    };
    BOOST_TEST(loop.run(nested(loop)));
}

BOOST_AUTO_TEST_CASE(awaiting_a_timer_outside_any_loop_is_an_error)
{
    task<void> t = []() -> task<void> { co_await weft::sleep_for(1ms); }();
    auto handle = t.release();
    task<void> owner(handle);
    handle.resume(); // no loop on this thread: the await must fail, not crash
    BOOST_TEST(handle.done());
    BOOST_CHECK_THROW(handle.promise().result(), weft::invalid_state_error);
}

namespace
{
// Installs a seccomp filter that fails io_uring_setup with `error_number`, then constructs a
// loop and reports through the exit code whether the expected error and wording came back.
int child_expecting_uring_unavailable(int error_number, const char* expected_words)
{
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<unsigned>(error_number)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
    {
        return 77;
    }
    try
    {
        event_loop loop;
    }
    catch (const weft::uring_unavailable& e)
    {
        const std::string what = e.what();
        return e.error_number() == error_number && what.find(expected_words) != std::string::npos
                   ? 0
                   : 2;
    }
    return 3;
}

int run_in_child(int error_number, const char* words)
{
    const pid_t pid = fork();
    if (pid == 0)
    {
        _exit(child_expecting_uring_unavailable(error_number, words));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
} // namespace

BOOST_AUTO_TEST_CASE(io_uring_blocked_by_seccomp_gives_one_clear_error)
{
    const int rc = run_in_child(ENOSYS, "seccomp");
    if (rc == 77)
    {
        BOOST_TEST_MESSAGE("seccomp filters are not available here");
        return;
    }
    BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_CASE(io_uring_refused_with_eperm_names_the_sysctl_or_policy)
{
    const int rc = run_in_child(EPERM, "io_uring");
    if (rc == 77)
    {
        return;
    }
    BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_CASE(spawned_task_keeps_its_own_stop_token)
{
    event_loop loop;
    std::stop_source own;
    bool cancelled = false;
    loop.spawn(weft::with_stop_token(own.get_token(),
                                     [](bool& flag) -> task<void>
                                     {
                                         try
                                         {
                                             co_await weft::sleep_for(1h);
                                         }
                                         catch (const weft::operation_cancelled&)
                                         {
                                             flag = true;
                                         }
                                     }(cancelled)));
    loop.run(
        [](std::stop_source& s) -> task<void>
        {
            co_await weft::sleep_for(5ms);
            s.request_stop();
            co_await weft::sleep_for(5ms);
        }(own));
    BOOST_TEST(cancelled);
}

BOOST_AUTO_TEST_CASE(destroying_a_sleeping_task_removes_its_timer)
{
    event_loop loop;
    loop.run(
        []() -> task<void>
        {
            {
                // Started by hand and abandoned while it sleeps: its frame is destroyed
                // with its timer still queued.
                task<void> sleeper = []() -> task<void> { co_await weft::sleep_for(10ms); }();
                auto handle = sleeper.release();
                handle.resume();
                handle.destroy();
            }
            co_await weft::sleep_for(30ms); // the freed timer's deadline passes here
        }());
    BOOST_TEST(true); // reaching here without touching freed memory (ASan) is the check
}

BOOST_AUTO_TEST_CASE(spawned_task_with_its_own_token_still_stops_with_the_loop)
{
    event_loop loop;
    std::stop_source own;
    bool cancelled = false;
    loop.spawn(weft::with_stop_token(own.get_token(),
                                     [](bool& flag) -> task<void>
                                     {
                                         try
                                         {
                                             co_await weft::sleep_for(1h);
                                         }
                                         catch (const weft::operation_cancelled&)
                                         {
                                             flag = true;
                                         }
                                     }(cancelled)));
    loop.run(
        [](event_loop& l) -> task<void>
        {
            co_await weft::sleep_for(5ms);
            l.stop();
            try
            {
                co_await weft::sleep_for(1h);
            }
            catch (const weft::operation_cancelled&)
            {
            }
            co_await weft::yield();
        }(loop));
    BOOST_TEST(cancelled);
    BOOST_TEST(!own.stop_requested());
}

BOOST_AUTO_TEST_CASE(cancellation_escaping_a_spawned_task_is_not_reported)
{
    event_loop loop;
    int reports = 0;
    loop.set_unhandled_exception_handler([&](std::exception_ptr) { ++reports; });
    std::stop_source own;
    loop.spawn(weft::with_stop_token(own.get_token(),
                                     []() -> task<void> { co_await weft::sleep_for(1h); }()));
    loop.spawn(
        []() -> task<void>
        {
            co_await std::suspend_never{}; // a coroutine, thrown from on its first run
            throw weft::operation_cancelled();
        }());
    loop.spawn(
        []() -> task<void>
        {
            co_await weft::yield();
            throw std::logic_error("reported");
        }());
    loop.run(
        [](std::stop_source& s) -> task<void>
        {
            co_await weft::sleep_for(2ms);
            s.request_stop();
            co_await weft::sleep_for(2ms);
        }(own));
    BOOST_TEST(reports == 1);
}

// A spawned task is one frame: finishing frees it, and finishing it from inside another
// spawned task's turn does not disturb the list of spawned tasks (ASan checks the memory).
BOOST_AUTO_TEST_CASE(spawned_tasks_free_their_frames_as_they_finish)
{
    auto alive = std::make_shared<int>(0);
    event_loop loop;
    loop.run(
        [](std::shared_ptr<int> keep) -> task<void>
        {
            event_loop& l = *event_loop::current();
            for (int i = 0; i < 1000; ++i)
            {
                l.spawn(
                    [](std::shared_ptr<int> k, int n) -> task<void>
                    {
                        for (int y = 0; y < n % 4; ++y)
                        {
                            co_await weft::yield();
                        }
                        ++*k;
                    }(keep, i));
            }
            while (*keep < 1000)
            {
                co_await weft::yield();
            }
            BOOST_TEST(keep.use_count() == 2); // this frame's copy and the test's
        }(alive));
    BOOST_TEST(alive.use_count() == 1);
}
