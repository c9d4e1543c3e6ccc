// A reference field is a pointer by another name: refused.
#include <weft/weft.hpp>

struct holder
{
    const int& value;
};

void use(holder) {}

int main()
{
    const int x = 1;
    weft::process p(use, holder{x});
}
