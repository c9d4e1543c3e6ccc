// The seeds' first Queue: a child puts ['hello', 'world'], the parent gets it and prints it.
//
//     q = Queue(); p = Process(target=f, args=(q,)); p.start(); print(q.get()); p.join()
//
// Unlike Python's Queue there is no feeder thread: put() has written the item into the queue's
// shared memory when it returns, so the child may exit before the parent reads it.
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>
#include <weft/weft.hpp>

void f(weft::queue<std::vector<std::string>> q)
{
    q.put({"hello", "world"});
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    weft::queue<std::vector<std::string>> q;
    weft::process p(f, q);
    p.start();
    const std::vector<std::string> got = q.get();
    std::printf("[");
    for (std::size_t i = 0; i < got.size(); ++i)
    {
        std::printf("%s'%s'", i == 0 ? "" : ", ", got[i].c_str());
    }
    std::printf("]\n");
    p.join();
    const bool ok = got == std::vector<std::string>{"hello", "world"};
    return ok && p.exitcode() == 0 ? 0 : 1;
}
