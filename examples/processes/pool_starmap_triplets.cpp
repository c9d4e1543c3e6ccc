// The seeds' starmap: times(x, y, z) over 1,000 random triplets in a pool of five.
#include <cstdio>
#include <random>
#include <tuple>
#include <vector>
#include <weft/weft.hpp>

int times(int x, int y, int z)
{
    return x * y * z;
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> upto_ten(0, 10);
    std::vector<std::tuple<int, int, int>> triplets;
    for (int i = 0; i < 1000; ++i)
    {
        triplets.emplace_back(upto_ten(random), upto_ten(random), upto_ten(random));
    }
    weft::pool pool(5);
    const std::vector<int> results = pool.starmap(times, triplets);
    int wrong = 0;
    std::printf("[");
    for (std::size_t i = 0; i < results.size(); ++i)
    {
        const auto [x, y, z] = triplets[i];
        wrong += results[i] != x * y * z ? 1 : 0;
        std::printf(i == 0 ? "%d" : ", %d", results[i]);
    }
    std::printf("]\n");
    return wrong == 0 && results.size() == 1000 ? 0 : 1;
}
