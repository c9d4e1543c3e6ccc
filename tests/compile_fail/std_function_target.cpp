// std::function hides its target: nothing names it in another process.
#include <functional>
#include <weft/weft.hpp>

int main()
{
    std::function<void()> f = [] {};
    weft::process p(f);
}
