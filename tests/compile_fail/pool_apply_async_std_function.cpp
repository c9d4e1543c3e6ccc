// pool::apply_async: a std::function hides its target, which nothing names in another process.
#include <functional>
#include <tuple>
#include <weft/weft.hpp>

int main()
{
    weft::pool pool(1);
    const std::function<int(int)> twice = [](int x) { return 2 * x; };
    (void)pool.apply_async(twice, std::tuple{3});
}
