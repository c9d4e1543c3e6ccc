// The seeds' exercise: 100 processes each roll two dice and put the total on a queue; the
// parent gets the 100 totals, joins the processes, and counts each value that came up.
//
// Each child seeds its own generator (std::random_device): a forked or forkserver child that
// reused a generator copied from its parent would roll what its siblings roll. The parent
// checks that the counts add up to 100 and every total is in 2..12.
#include <cstdio>
#include <map>
#include <random>
#include <vector>
#include <weft/weft.hpp>

void roll(weft::queue<int> queue)
{
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> die(1, 6);
    const int die1 = die(random);
    const int die2 = die(random);
    queue.put(die1 + die2);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    weft::queue<int> queue; // set up a queue to store results

    std::vector<weft::process> processes;
    processes.reserve(100);
    for (int i = 0; i < 100; ++i)
    {
        processes.emplace_back(roll, queue);
    }
    for (auto& process : processes)
    {
        process.start();
    }

    std::vector<int> results;
    for (std::size_t i = 0; i < processes.size(); ++i)
    {
        results.push_back(queue.get());
    }
    int failed = 0;
    for (auto& process : processes)
    {
        process.join();
        failed += process.exitcode().value_or(-1) != 0 ? 1 : 0;
    }

    std::map<int, int> counts;
    for (int total : results)
    {
        ++counts[total];
    }
    int sum = 0;
    bool in_range = true;
    std::printf("{");
    for (const auto& [total, count] : counts)
    {
        std::printf("%s%d: %d", sum == 0 ? "" : ", ", total, count);
        sum += count;
        in_range = in_range && total >= 2 && total <= 12;
    }
    std::printf("}\n");
    return failed == 0 && sum == 100 && in_range ? 0 : 1;
}
