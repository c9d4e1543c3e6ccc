// pool::imap's inputs are its arguments: a struct with a pointer field is refused.
#include <vector>
#include <weft/weft.hpp>

#include "tests/compile_fail/named_with_pointer.hpp"

int main()
{
    weft::pool pool(1);
    const std::vector<named> inputs = {{1, "one"}, {2, "two"}};
    for (int v : pool.imap(id_of, inputs))
    {
        (void)v;
    }
}
