// The seeds' first Pool program: `with Pool(5) as pool: print(pool.map(f, [1, 2, 3]))`. The
// pool's scope plays the `with` block: leaving it closes the pool and joins its workers.
#include <cstdio>
#include <vector>
#include <weft/weft.hpp>

int f(int x)
{
    return x * x;
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    std::vector<int> squares;
    {
        weft::pool pool(5);
        squares = pool.map(f, std::vector<int>{1, 2, 3});
    }
    std::printf("[%d, %d, %d]\n", squares[0], squares[1], squares[2]);
    return squares == std::vector<int>{1, 4, 9} ? 0 : 1;
}
