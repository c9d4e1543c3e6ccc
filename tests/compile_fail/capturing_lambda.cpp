// A capturing lambda carries state that has no meaning in another process.
#include <weft/weft.hpp>

int main()
{
    int k = 1;
    weft::process p([k](int n) { (void)(n + k); }, 1);
}
