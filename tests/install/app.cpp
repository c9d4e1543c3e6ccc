// Built by install_test.sh against the installed headers and library only.
#include <chrono>
#include <cstdio>
#include <weft/weft.hpp>

weft::task<int> answer()
{
    co_await weft::sleep_for(std::chrono::milliseconds(1));
    co_return 42;
}

int main()
{
    weft::event_loop loop;
    const int value = loop.run(answer());
    std::printf("installed weft works: %d\n", value);
    return value == 42 ? 0 : 1;
}
