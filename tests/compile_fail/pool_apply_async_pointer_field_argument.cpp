// pool::apply_async's arguments: a struct with a pointer field is refused.
#include <tuple>
#include <weft/weft.hpp>

struct named
{
    int id;
    const char* name;
};

int id_of(named n)
{
    return n.id;
}

int main()
{
    weft::pool pool(1);
    (void)pool.apply_async(id_of, std::tuple{named{1, "one"}});
}
