// hello: the smallest complete weft program. Two tasks sleep concurrently on one event loop;
// when_all runs them side by side, so the whole run takes about as long as the longer sleep,
// not the sum.
//
//   build/examples/hello
// prints the two greetings, then the total time (about 100 ms, not 150).

#include <chrono>
#include <cstdio>
#include <string>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

weft::task<std::string> greet(std::string name, std::chrono::milliseconds delay)
{
    co_await weft::sleep_for(delay);
    co_return "hello, " + name;
}

weft::task<int> amain()
{
    const auto start = std::chrono::steady_clock::now();
    auto [first, second] = co_await weft::when_all(greet("world", 100ms), greet("weft", 50ms));
    std::puts(first.c_str());
    std::puts(second.c_str());
    const auto elapsed = std::chrono::steady_clock::now() - start;
    std::printf("took %lld ms\n",
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
    co_return 0;
}

int main()
{
    weft::event_loop loop;
    return loop.run(amain());
}
