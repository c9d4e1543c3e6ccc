// Waiting for a process pool's futures: co_await from an event loop, and threads blocked in
// result() that collect the pool's results for each other.
#define BOOST_TEST_MODULE process_pool_waiting
#define BOOST_TEST_NO_MAIN
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>

#include "support/process_pool_tests.hpp"

using weft::task;
using weft::testing::sleep_then;

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
namespace
{

void check_threads_collecting_for_each_other(start_method method)
{
    future<int> outlives;
    {
        process_pool_executor pool({.max_workers = 2, .start_method = method});
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

} // namespace

BOOST_AUTO_TEST_CASE(threads_blocked_in_result_collect_for_each_other)
{
    for (const start_method method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            check_threads_collecting_for_each_other(method);
        }
    }
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
