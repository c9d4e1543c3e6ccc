// The seeds' apply and apply_async with an initializer, callbacks and maxtasksperchild.
//
// apply with maxtasksperchild=1: the one worker runs the initializer, squares 3 and retires;
// a replacement starts and runs the initializer again, so the two lines name different pids.
// apply_async with maxtasksperchild=2: on_success prints the result. The seeds sleep six
// seconds to keep main alive; here the future (or the pool's destructor) waits exactly as long
// as the work takes.
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <tuple>
#include <unistd.h>
#include <weft/weft.hpp>

void init(pid_t main_id)
{
    std::printf("pool process with id %d received a task from main process with id %d\n",
                static_cast<int>(::getpid()), static_cast<int>(main_id));
    std::fflush(stdout);
}

int square(int x)
{
    return x * x;
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const pid_t main_process_id = ::getpid();

    {
        weft::pool pool({.max_workers = 1,
                         .initializer = weft::worker_initializer(init, main_process_id),
                         .max_tasks_per_child = 1});
        const pid_t first_worker = pool.worker_pids().at(0);
        const int result = pool.apply(square, 3);
        std::printf("%d\n", result);
        std::fflush(stdout);
        if (result != 9)
        {
            return 1;
        }
        // Wait until the replacement has started (it runs the initializer even if it never
        // gets a task), as the seed's sleep does.
        for (int i = 0; i < 1000; ++i)
        {
            const auto pids = pool.worker_pids();
            if (!pids.empty() && pids[0] != first_worker)
            {
                break;
            }
            ::usleep(5'000);
        }
    }

    std::printf("-- apply_async, maxtasksperchild=2\n");
    weft::pool pool({.max_workers = 1,
                     .initializer = weft::worker_initializer(init, main_process_id),
                     .max_tasks_per_child = 2});
    auto on_success = [](int result) { std::printf("result is %d\n", result); };
    auto on_error = [](std::exception_ptr error)
    {
        try
        {
            std::rethrow_exception(error);
        }
        catch (const std::exception& e)
        {
            std::printf("error is %s\n", e.what());
        }
    };
    auto result = pool.apply_async(square, std::tuple{9}, on_success, on_error);
    return result.result() == 81 ? 0 : 1;
}
