// A pointer returned by a worker would point into the worker's memory.
#include <weft/weft.hpp>

const int* where()
{
    static const int x = 1;
    return &x;
}

int main()
{
    weft::pool pool(1);
    (void)pool.apply(where);
}
