// The pointer may be a field of a field, or an element of an array field: it is found there.
#include <weft/weft.hpp>

struct inner
{
    double weight;
    const char* labels[2];
};

struct outer
{
    int id;
    inner detail;
};

int use(outer o)
{
    return o.id;
}

int main()
{
    weft::pool pool(1);
    (void)pool.apply(use, outer{});
}
