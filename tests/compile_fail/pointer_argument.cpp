// A pointer would point into the sender's memory.
#include <weft/weft.hpp>

void use(const int*) {}

int main()
{
    int x = 0;
    weft::process p(use, &x);
}
