// pool::imap ships its target like submit: a capturing lambda is refused at compile time.
#include <vector>
#include <weft/weft.hpp>

int main()
{
    weft::pool pool(1);
    int k = 2;
    for (int v : pool.imap([k](int x) { return x * k; }, std::vector<int>{1, 2, 3}))
    {
        (void)v;
    }
}
