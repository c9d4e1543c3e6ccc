#define BOOST_TEST_MODULE thread
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "executors/threads/bunch.hpp"

// weft::thread against Python's threading.Thread contract (test_threading.ThreadTests: start
// twice, join before start, join(timeout), is_alive, ident, native_id, names, daemon).

using namespace std::chrono_literals;
using weft::testing::eventually;
using weft::testing::hang_limit;
using weft::testing::timed;

BOOST_AUTO_TEST_CASE(target_runs_with_its_arguments)
{
    std::atomic<int> sum{0};
    int shared = 0;
    weft::thread t(
        [&sum](int a, int b, int& c, const std::string& s)
        {
            sum = a + b + static_cast<int>(s.size());
            c = 42;
        },
        1, 2, std::ref(shared), std::string("abc"));
    t.start();
    BOOST_REQUIRE(t.join(hang_limit));
    BOOST_TEST(sum.load() == 6);
    BOOST_TEST(shared == 42);
}

BOOST_AUTO_TEST_CASE(move_only_arguments_are_moved_into_the_thread)
{
    std::atomic<int> seen{0};
    weft::thread t([&seen](std::unique_ptr<int> p) { seen = *p; }, std::make_unique<int>(7));
    t.start();
    BOOST_REQUIRE(t.join(hang_limit));
    BOOST_TEST(seen.load() == 7);
}

BOOST_AUTO_TEST_CASE(start_twice_throws_invalid_state)
{
    weft::thread t([] {});
    t.start();
    try
    {
        t.start();
        BOOST_FAIL("a second start() did not throw");
    }
    catch (const weft::invalid_state_error& e)
    {
        BOOST_TEST(std::string(e.what()).find("threads can only be started once") !=
                   std::string::npos);
    }
    t.join();
}

BOOST_AUTO_TEST_CASE(join_before_start_throws_invalid_state)
{
    weft::thread t([] {});
    BOOST_CHECK_THROW(t.join(), weft::invalid_state_error);
    BOOST_CHECK_THROW((void)t.join(1ms), weft::invalid_state_error);
}

BOOST_AUTO_TEST_CASE(a_thread_joining_itself_throws_invalid_state)
{
    std::atomic<bool> threw{false};
    weft::thread* self = nullptr;
    std::atomic<bool> ready{false};
    weft::thread t(
        [&]
        {
            (void)eventually([&] { return ready.load(); });
            try
            {
                self->join();
            }
            catch (const weft::invalid_state_error&)
            {
                threw = true;
            }
        });
    self = &t;
    t.start();
    ready = true;
    BOOST_REQUIRE(t.join(hang_limit));
    BOOST_TEST(threw.load());
}

BOOST_AUTO_TEST_CASE(join_timeout_returns_false_while_running_and_true_once_done)
{
    weft::event release;
    weft::thread t([&] { (void)release.wait(hang_limit); });
    BOOST_TEST(!t.is_alive());
    t.start();
    BOOST_TEST(t.is_alive());
    bool joined = true;
    const auto waited = timed([&] { joined = t.join(100ms); });
    BOOST_TEST(!joined);
    BOOST_TEST((waited >= 100ms));
    BOOST_TEST(t.is_alive());
    release.set();
    BOOST_TEST(t.join(hang_limit));
    BOOST_TEST(!t.is_alive());
    BOOST_TEST(t.join(0s)); // joining a finished thread again is fine
}

BOOST_AUTO_TEST_CASE(ident_and_native_id_are_set_by_start)
{
    std::thread::id inside;
    weft::thread t([&] { inside = std::this_thread::get_id(); });
    BOOST_TEST((t.ident() == std::thread::id()));
    BOOST_TEST(t.native_id() == 0);
    t.start();
    BOOST_TEST((t.ident() != std::thread::id()));
    BOOST_TEST((t.ident() != std::this_thread::get_id()));
    BOOST_TEST(t.native_id() > 0);
    BOOST_REQUIRE(t.join(hang_limit));
    BOOST_TEST((inside == t.ident()));
}

BOOST_AUTO_TEST_CASE(threads_are_named_and_see_their_name)
{
    BOOST_TEST(weft::current_thread_name() == "MainThread");
    std::string seen;
    std::string os_name;
    weft::thread t({.name = "a-rather-long-thread-name"},
                   [&]
                   {
                       seen = weft::current_thread_name();
                       char buffer[16] = {};
                       ::pthread_getname_np(::pthread_self(), buffer, sizeof buffer);
                       os_name = buffer;
                   });
    BOOST_TEST(t.name() == "a-rather-long-thread-name");
    t.start();
    BOOST_REQUIRE(t.join(hang_limit));
    BOOST_TEST(seen == "a-rather-long-thread-name");
    BOOST_TEST(os_name == "a-rather-long-t"); // the OS keeps 15 bytes
}

BOOST_AUTO_TEST_CASE(unnamed_threads_are_called_thread_n)
{
    weft::thread a([] {});
    weft::thread b([] {});
    BOOST_TEST(a.name().rfind("Thread-", 0) == 0u);
    BOOST_TEST(b.name().rfind("Thread-", 0) == 0u);
    BOOST_TEST(a.name() != b.name());
}

BOOST_AUTO_TEST_CASE(set_current_thread_name_names_foreign_threads)
{
    std::string seen;
    {
        weft::testing::bunch b(1,
                               [&](std::size_t)
                               {
                                   weft::set_current_thread_name("worker-7");
                                   seen = weft::current_thread_name();
                               });
    }
    BOOST_TEST(seen == "worker-7");
}

namespace
{

// Python's "subclass Thread and override run()" style.
class counting_task : public weft::thread
{
  public:
    explicit counting_task(std::atomic<int>& runs)
        : thread({.name = "subclassThread"}), m_runs(runs)
    {
    }
    ~counting_task() override
    {
        // run() uses this object: join before the members go.
        if (is_alive())
        {
            join();
        }
    }

  protected:
    void run() override
    {
        m_name_seen = weft::current_thread_name();
        m_runs.fetch_add(1);
    }

  public:
    std::string m_name_seen;

  private:
    std::atomic<int>& m_runs;
};

} // namespace

BOOST_AUTO_TEST_CASE(a_subclass_runs_its_own_run)
{
    std::atomic<int> runs{0};
    counting_task task(runs);
    task.start();
    BOOST_REQUIRE(task.join(hang_limit));
    BOOST_TEST(runs.load() == 1);
    BOOST_TEST(task.m_name_seen == "subclassThread");
}

BOOST_AUTO_TEST_CASE(destroying_a_non_daemon_thread_joins_it)
{
    std::atomic<bool> finished{false};
    {
        weft::thread t(
            [&]
            {
                std::this_thread::sleep_for(100ms);
                finished = true;
            });
        BOOST_TEST(!t.daemon());
        t.start();
    }
    BOOST_TEST(finished.load());
}

BOOST_AUTO_TEST_CASE(destroying_a_daemon_thread_detaches_it)
{
    // Shared with the thread, which outlives its object.
    auto release = std::make_shared<weft::event>();
    auto finished = std::make_shared<weft::event>();
    const auto destroyed_in = timed(
        [&]
        {
            weft::thread t({.daemon = true},
                           [release, finished]
                           {
                               (void)release->wait(hang_limit);
                               finished->set();
                           });
            BOOST_TEST(t.daemon());
            t.start();
        });
    BOOST_TEST((destroyed_in < 5s));
    BOOST_TEST(!finished->is_set());
    release->set();
    BOOST_TEST(finished->wait(hang_limit));
}

BOOST_AUTO_TEST_CASE(an_exception_in_the_target_ends_only_that_thread)
{
    weft::thread t([] { throw std::runtime_error("boom (expected by the test)"); });
    t.start();
    BOOST_REQUIRE(t.join(hang_limit));
    BOOST_TEST(!t.is_alive());
}

BOOST_AUTO_TEST_CASE(the_target_may_query_its_thread_while_the_destructor_joins_it)
{
    std::atomic<bool> saw_alive{false};
    {
        weft::thread* self = nullptr;
        std::atomic<bool> ready{false};
        weft::thread t(
            [&]
            {
                (void)eventually([&] { return ready.load(); });
                std::this_thread::sleep_for(50ms); // let the destructor start joining
                saw_alive = self->is_alive();
            });
        self = &t;
        t.start();
        ready = true;
    }
    BOOST_TEST(saw_alive.load());
}
