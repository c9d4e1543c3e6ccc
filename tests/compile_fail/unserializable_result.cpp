// A result of a type with no serializer comes back no more than it could go: refused.
#include <string>
#include <weft/weft.hpp>

struct record
{
    std::string text;
};

record make(int id)
{
    return {std::to_string(id)};
}

int main()
{
    weft::process_pool_executor pool({.max_workers = 1});
    (void)pool.submit(make, 1);
}
