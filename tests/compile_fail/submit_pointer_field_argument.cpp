// process_pool_executor::submit: a struct whose field points into the sender's memory is
// refused.
#include <weft/weft.hpp>

#include "tests/compile_fail/named_with_pointer.hpp"

int main()
{
    weft::process_pool_executor pool({.max_workers = 1});
    (void)pool.submit(id_of, named{1, "one"});
}
