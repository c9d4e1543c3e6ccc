// Trivially copyable, but its bytes hold a pointer into the sender's memory: refused unless
// the type has a cereal serializer (or a weft::ship_bytewise specialization).
#include <weft/weft.hpp>

struct named
{
    int id;
    const char* name;
};

void use(named) {}

int main()
{
    weft::process p(use, named{1, "one"});
}
