// pool::apply_async's arguments: a struct with a pointer field is refused.
#include <tuple>
#include <weft/weft.hpp>

#include "tests/compile_fail/named_with_pointer.hpp"

int main()
{
    weft::pool pool(1);
    (void)pool.apply_async(id_of, std::tuple{named{1, "one"}});
}
