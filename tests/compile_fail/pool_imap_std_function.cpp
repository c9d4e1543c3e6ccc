// pool::imap: a std::function hides its target, which nothing names in another process.
#include <functional>
#include <vector>
#include <weft/weft.hpp>

int main()
{
    weft::pool pool(1);
    const std::function<int(int)> twice = [](int x) { return 2 * x; };
    for (int v : pool.imap(twice, std::vector<int>{1, 2, 3}))
    {
        (void)v;
    }
}
