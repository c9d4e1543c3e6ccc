// A class holding a std::mutex cannot be copied, so it cannot be sent either, even though GCC
// calls it trivially copyable: weft refuses it at compile time.
#include <mutex>
#include <weft/weft.hpp>

struct guarded
{
    std::mutex lock;
    int value = 0;
};

void use(const guarded&) {}

int main()
{
    weft::process p(use, guarded{});
}
