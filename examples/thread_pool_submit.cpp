// The seeds' first ThreadPoolExecutor program: submit say_hi for nine guests to a pool of ten
// threads, wait for every future, shut down. Each line names the worker thread that ran it.
#include <cstdio>
#include <string>
#include <vector>
#include <weft/weft.hpp>

namespace
{

void say_hi(const std::string& item)
{
    std::printf("hi %s executed in thread %s\n", item.c_str(), weft::current_thread_name().c_str());
    std::fflush(stdout);
}

} // namespace

int main()
{
    weft::thread_pool_executor executor({.max_workers = 10});
    std::vector<weft::future<void>> futures;
    for (int i = 1; i < 10; ++i)
    {
        futures.push_back(executor.submit(say_hi, "guest" + std::to_string(i)));
    }
    for (auto& f : futures)
    {
        f.result();
    }
    executor.shutdown();
    return 0;
}
