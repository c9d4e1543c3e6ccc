// The seeds' Barrier program: five processes sleep a random time (0-300 ms here, 0-5 s in the
// seed), print how many are already waiting, and wait on Barrier(5, action); the last to
// arrive runs the action, which prints its name, before anyone is released.
//
// Prints (counts and names vary):
//     Currently 0 processes blocked on barrier
//     ...
//     Currently 4 processes blocked on barrier
//     All processes released, reported by Process-3
//
// Differences from Python: the seed keeps the barrier in a global, which only a forked child
// shares; here it is passed as an argument, so it works under forkserver (the default). The
// action is a plain function: it travels by its address in the executable, as targets do. The
// barrier waits at most 5 s, and the parent joins every process (the seed forgot to) and
// checks that the action ran once and all five were released.
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

int actions_run = 0; // per process: counts the action's runs in this one

void when_all_processes_released()
{
    ++actions_run;
    std::printf("\nAll processes released, reported by %s\n", weft::current_process_name().c_str());
    std::fflush(stdout);
}

void process_task(weft::interprocess::barrier barrier, weft::shared_value<int> actions,
                  weft::shared_value<int> released)
{
    std::random_device random;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution(0, 300)(random)));
    std::printf("\nCurrently %zu processes blocked on barrier\n", barrier.n_waiting());
    std::fflush(stdout);
    barrier.wait();
    auto held = released.get_lock().guard();
    released.raw() += 1;
    actions.raw() += actions_run; // the same lock guards both
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    constexpr int num_processes = 5;
    weft::interprocess::barrier barrier(num_processes, when_all_processes_released,
                                        std::chrono::seconds(5));
    weft::shared_value<int> released(0);
    weft::shared_value<int> actions(0, released.get_lock());

    std::vector<weft::process> processes;
    for (int i = 0; i < num_processes; ++i)
    {
        processes.emplace_back(process_task, barrier, actions, released);
    }
    for (auto& process : processes)
    {
        process.start();
    }
    bool ok = true;
    for (auto& process : processes)
    {
        process.join();
        ok = ok && process.exitcode() == 0;
    }
    return ok && released.get() == num_processes && actions.get() == 1 ? 0 : 1;
}
