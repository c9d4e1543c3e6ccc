// process_pool_executor::submit: a capturing lambda carries state that has no meaning in a
// worker.
#include <weft/weft.hpp>

int main()
{
    weft::process_pool_executor pool({.max_workers = 1});
    int k = 2;
    (void)pool.submit([k](int x) { return x * k; }, 3);
}
