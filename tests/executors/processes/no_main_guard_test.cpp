// A program that never calls weft::main_guard: spawn and forkserver would run its main() again
// in the child (Python's missing `if __name__ == "__main__"`), so start() refuses them, and so
// does a pool's constructor.
#define BOOST_TEST_MODULE no_main_guard
#include <string>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

namespace
{

void nothing() {}

int twice(int x)
{
    return 2 * x;
}

} // namespace

BOOST_AUTO_TEST_CASE(spawn_and_forkserver_refuse_to_start_without_main_guard)
{
    for (const auto method : {weft::start_method::spawn, weft::start_method::forkserver})
    {
        weft::process p({.start_method = method}, nothing);
        try
        {
            p.start();
            BOOST_FAIL("start() did not throw");
        }
        catch (const weft::invalid_state_error& e)
        {
            BOOST_TEST(std::string(e.what()).find("main_guard") != std::string::npos);
        }
        BOOST_TEST(!p.pid().has_value());
    }
}

BOOST_AUTO_TEST_CASE(fork_needs_no_main_guard)
{
    weft::process p({.start_method = weft::start_method::fork}, nothing);
    p.start();
    p.join();
    BOOST_TEST(p.exitcode().value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(spawn_and_forkserver_pools_refuse_to_start_without_main_guard)
{
    for (const auto method : {weft::start_method::spawn, weft::start_method::forkserver})
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            try
            {
                weft::process_pool_executor pool({.max_workers = 1, .start_method = method});
                BOOST_FAIL("the pool started");
            }
            catch (const weft::invalid_state_error& e)
            {
                BOOST_TEST(std::string(e.what()).find("main_guard") != std::string::npos);
            }
            BOOST_CHECK_THROW(weft::pool({.max_workers = 1, .start_method = method}),
                              weft::invalid_state_error);
        }
    }
    weft::process_pool_executor fork_pool(
        {.max_workers = 1, .start_method = weft::start_method::fork});
    BOOST_TEST(fork_pool.submit(twice, 21).result() == 42);
}
