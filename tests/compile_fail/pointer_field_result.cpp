// A result whose field points into the worker's memory: refused, the same as an argument.
#include <weft/weft.hpp>

struct named
{
    int id;
    const char* name;
};

named make(int id)
{
    return {id, "made"};
}

int main()
{
    weft::process_pool_executor pool({.max_workers = 1});
    (void)pool.submit(make, 1);
}
