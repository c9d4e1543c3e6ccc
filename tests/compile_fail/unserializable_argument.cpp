// Not trivially copyable and no cereal serialize(): weft cannot send it.
#include <string>
#include <weft/weft.hpp>

struct record
{
    std::string text;
};

void use(record) {}

int main()
{
    weft::process p(use, record{"x"});
}
