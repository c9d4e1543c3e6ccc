// process_pool_executor::submit: a std::function hides its target, which nothing names in a
// worker.
#include <functional>
#include <weft/weft.hpp>

int main()
{
    weft::process_pool_executor pool({.max_workers = 1});
    const std::function<int(int)> twice = [](int x) { return 2 * x; };
    (void)pool.submit(twice, 3);
}
