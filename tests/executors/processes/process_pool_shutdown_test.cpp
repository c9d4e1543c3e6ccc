// process_pool_executor's shutdown: cancel_futures cancels what has not started, wait = false
// lets running calls finish, the destructor waits, and submit() is refused afterwards.
#define BOOST_TEST_MODULE process_pool_shutdown
#define BOOST_TEST_NO_MAIN
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/process_pool_tests.hpp"

using weft::test::zombie_children;
using weft::testing::sleep_then;

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

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
