#define BOOST_TEST_MODULE futex_wait_operation
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <stop_token>
#include <thread>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime/uring/futex_wait_operation.hpp"
#include "support/run_task.hpp"

// IORING_OP_FUTEX_WAIT on a shared futex: woken by another thread or process, at once when the
// word differs, cancelled by a stop request; the loop keeps running other tasks meanwhile.

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using weft::task;
using weft::testing::run_task;
using weft::uring::futex_wait_operation;

namespace
{

// A futex word in MAP_SHARED memory, as the cross-process primitives have it.
class shared_word
{
  public:
    shared_word()
    {
        m_memory = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        BOOST_REQUIRE(m_memory != MAP_FAILED);
        m_word = new (m_memory) std::atomic<std::uint32_t>(0);
    }
    shared_word(const shared_word&) = delete;
    shared_word& operator=(const shared_word&) = delete;
    ~shared_word() { ::munmap(m_memory, 4096); }

    std::atomic<std::uint32_t>& operator*() const noexcept { return *m_word; }

  private:
    void* m_memory = nullptr;
    std::atomic<std::uint32_t>* m_word = nullptr;
};

// A shared (not private) FUTEX_WAKE, as another process would send it.
void store_and_wake(std::atomic<std::uint32_t>& word, std::uint32_t value)
{
    word.store(value);
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr,
              nullptr, 0);
}

// Awaits until the word leaves 0; returns how many awaits that took.
task<int> wait_for_change(std::atomic<std::uint32_t>& word)
{
    int awaits = 0;
    while (word.load() == 0)
    {
        co_await futex_wait_operation(word, 0);
        ++awaits;
    }
    co_return awaits;
}

bool supported()
{
    if (!weft::uring::futex_wait_supported())
    {
        BOOST_TEST_MESSAGE(
            "this kernel's io_uring lacks IORING_OP_FUTEX_WAIT (Linux 6.7): skipped");
        return false;
    }
    return true;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_wake_from_another_thread_resumes_it_and_the_loop_runs_meanwhile)
{
    if (!supported())
    {
        return;
    }
    shared_word word;
    std::thread waker(
        [&]
        {
            std::this_thread::sleep_for(50ms);
            store_and_wake(*word, 1);
        });
    const auto [awaits, ticks] = run_task(
        [](std::atomic<std::uint32_t>& w) -> task<std::pair<int, int>>
        {
            int ticks = 0;
            weft::event_loop::current()->spawn(
                [](std::atomic<std::uint32_t>& w2, int& t) -> task<void>
                {
                    while (w2.load() == 0)
                    {
                        co_await weft::sleep_for(2ms);
                        ++t;
                    }
                }(w, ticks));
            const int n = co_await wait_for_change(w);
            co_return std::pair<int, int>(n, ticks);
        }(*word));
    waker.join();
    // It slept: a wait that returned at once would have gone round many times in 50 ms.
    BOOST_TEST(awaits >= 1);
    BOOST_TEST(awaits <= 3);
    BOOST_TEST(ticks > 0);
}

BOOST_AUTO_TEST_CASE(a_word_that_differs_returns_at_once)
{
    if (!supported())
    {
        return;
    }
    shared_word word;
    (*word).store(7);
    const auto start = steady_clock::now();
    run_task([](std::atomic<std::uint32_t>& w) -> task<void>
             { co_await futex_wait_operation(w, 0); }(*word));
    BOOST_TEST((steady_clock::now() - start < 5s));
}

BOOST_AUTO_TEST_CASE(a_wake_from_another_process_resumes_it)
{
    if (!supported())
    {
        return;
    }
    shared_word word;
    std::fflush(nullptr);
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0)
    {
        ::usleep(50000);
        store_and_wake(*word, 2);
        ::_exit(0);
    }
    const int awaits = run_task(wait_for_change(*word));
    int status = 0;
    BOOST_TEST(::waitpid(child, &status, 0) == child);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    BOOST_TEST(awaits <= 3);
    BOOST_TEST((*word).load() == 2u);
}

BOOST_AUTO_TEST_CASE(a_stop_request_cancels_it)
{
    if (!supported())
    {
        return;
    }
    shared_word word;
    std::stop_source source;
    const auto body = [](std::stop_source& s, std::atomic<std::uint32_t>& w) -> task<bool>
    {
        task<void> waiter = weft::with_stop_token(s.get_token(),
                                                  [](std::atomic<std::uint32_t>& w2) -> task<void>
                                                  { co_await futex_wait_operation(w2, 0); }(w));
        weft::event_loop::current()->spawn(
            [](std::stop_source& src) -> task<void>
            {
                co_await weft::sleep_for(20ms);
                src.request_stop();
            }(s));
        try
        {
            co_await std::move(waiter);
        }
        catch (const weft::operation_cancelled&)
        {
            co_return true;
        }
        co_return false;
    };
    BOOST_TEST(run_task(body(source, *word)));
    BOOST_TEST((*word).load() == 0u);
}

BOOST_AUTO_TEST_CASE(an_already_stopped_token_throws_without_waiting)
{
    shared_word word;
    std::stop_source source;
    source.request_stop();
    BOOST_CHECK_THROW(
        run_task(weft::with_stop_token(source.get_token(),
                                       [](std::atomic<std::uint32_t>& w) -> task<void>
                                       { co_await futex_wait_operation(w, 0); }(*word))),
        weft::operation_cancelled);
}
