// A result that views the worker's memory cannot come back from it.
#include <string_view>
#include <weft/weft.hpp>

std::string_view name()
{
    return "worker";
}

int main()
{
    weft::process_pool_executor pool({.max_workers = 1});
    (void)pool.submit(name);
}
