#define BOOST_TEST_MODULE process_async_join
#define BOOST_TEST_NO_MAIN
// co_await of a weft::process: the awaiting task neither blocks its loop nor completes before
// the child exits, and its stop token cancels it.
#include <chrono>
#include <signal.h>
#include <stop_token>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/process_tests.hpp"

namespace
{

weft::task<void> join_and_note(process& child, bool& joined)
{
    co_await child.async_join();
    joined = true;
}

} // namespace

// The loop ticks five times while a task awaits the child, then kills it: the await neither
// blocks the loop nor completes early.
BOOST_AUTO_TEST_CASE(a_coroutine_awaits_a_child_while_its_loop_keeps_running)
{
    for (const start_method method : all_methods)
    {
        process p({.start_method = method}, sleep_ms, 60'000);
        p.start();
        weft::event_loop loop;
        int ticks = 0;
        bool joined_early = false;
        bool joined = false;
        loop.run(
            [](process& child, int& n, bool& early, bool& done) -> weft::task<void>
            {
                weft::task_group group;
                group.spawn(join_and_note(child, done));
                for (; n < 5; ++n)
                {
                    co_await weft::sleep_for(10ms);
                    early = early || done;
                }
                child.kill();
                co_await group.join();
            }(p, ticks, joined_early, joined));
        BOOST_TEST(ticks == 5);
        BOOST_TEST(!joined_early, weft::to_string(method));
        BOOST_TEST(joined, weft::to_string(method));
        BOOST_TEST(exit_of(p) == -SIGKILL, weft::to_string(method));
    }
}

BOOST_AUTO_TEST_CASE(an_async_join_is_cancelled_by_its_token)
{
    process p(sleep_ms, 60'000);
    p.start();
    weft::event_loop loop;
    std::stop_source stop;
    bool cancelled = false;
    loop.run(
        [](process& child, std::stop_source& s, bool& out) -> weft::task<void>
        {
            weft::task_group group;
            group.spawn(weft::with_stop_token(s.get_token(),
                                              [](process& c, bool& o) -> weft::task<void>
                                              {
                                                  try
                                                  {
                                                      co_await c.async_join();
                                                  }
                                                  catch (const weft::operation_cancelled&)
                                                  {
                                                      o = true;
                                                  }
                                              }(child, out)));
            co_await weft::sleep_for(20ms);
            s.request_stop();
            co_await group.join();
        }(p, stop, cancelled));
    BOOST_TEST(cancelled);
    BOOST_TEST(p.is_alive());
    p.kill();
    p.join();
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
