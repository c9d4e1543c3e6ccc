// starmap's tuples carry the arguments: one that cannot be serialized is refused at compile
// time, before any worker sees it.
#include <string>
#include <tuple>
#include <vector>
#include <weft/weft.hpp>

struct record
{
    std::string text;
};

int use(int x, record)
{
    return x;
}

int main()
{
    weft::pool pool(1);
    std::vector<std::tuple<int, record>> inputs(2);
    (void)pool.starmap(use, inputs);
}
