// A worker_initializer is shipped like a task: a capturing lambda is refused at compile time.
#include <string>
#include <weft/weft.hpp>

int main()
{
    std::string name = "db";
    weft::process_pool_executor pool(
        {.initializer = weft::worker_initializer([name] { (void)name.size(); })});
}
