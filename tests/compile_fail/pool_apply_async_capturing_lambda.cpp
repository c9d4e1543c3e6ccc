// pool::apply_async ships its target like submit: a capturing lambda is refused.
#include <tuple>
#include <weft/weft.hpp>

int main()
{
    weft::pool pool(1);
    int k = 2;
    (void)pool.apply_async([k](int x) { return x * k; }, std::tuple{3});
}
