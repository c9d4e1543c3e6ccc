// A server's view of the thread pool: a coroutine awaits a CPU-heavy call without stalling its
// event loop, while another coroutine on the same loop keeps ticking.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

namespace
{

// Deliberately slow: counts primes below n by trial division.
std::int64_t count_primes(std::int64_t n)
{
    std::int64_t count = 0;
    for (std::int64_t i = 2; i < n; ++i)
    {
        bool prime = true;
        for (std::int64_t d = 2; d * d <= i; ++d)
        {
            if (i % d == 0)
            {
                prime = false;
                break;
            }
        }
        count += prime ? 1 : 0;
    }
    return count;
}

weft::task<void> ticker(int& ticks, const bool& done)
{
    while (!done)
    {
        co_await weft::sleep_for(10ms);
        ++ticks;
    }
}

weft::task<int> serve(weft::thread_pool_executor& pool)
{
    int ticks = 0;
    bool done = false;
    weft::event_loop::require_current("serve").spawn(ticker(ticks, done));
    std::int64_t primes = co_await pool.submit(count_primes, 2'000'000);
    done = true;
    std::printf("primes below 2,000,000: %lld; the loop ticked %d times meanwhile\n",
                static_cast<long long>(primes), ticks);
    co_return primes == 148'933 && ticks > 0 ? 0 : 1;
}

} // namespace

int main()
{
    weft::thread_pool_executor pool;
    weft::event_loop loop;
    return loop.run(serve(pool));
}
