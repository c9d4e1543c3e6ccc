// A std::span points into the sender's memory: a pool task may not take one.
#include <span>
#include <vector>
#include <weft/weft.hpp>

int sum(std::span<const int> values)
{
    int total = 0;
    for (int v : values)
    {
        total += v;
    }
    return total;
}

int main()
{
    std::vector<int> values{1, 2, 3};
    weft::process_pool_executor pool({.max_workers = 1});
    (void)pool.submit(sum, std::span<const int>(values));
}
