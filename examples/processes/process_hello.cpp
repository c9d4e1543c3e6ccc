// The seeds' first Process: run f("Alice") in a child and wait for it.
//
//     p = Process(target=f, args=('Alice',)); p.start(); p.join()
#include <cstdio>
#include <string>
#include <weft/weft.hpp>

void f(std::string name)
{
    std::printf("hello %s\n", name.c_str());
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv); // if __name__ == "__main__":
    weft::process p(f, std::string("Alice"));
    p.start();
    p.join();
    return p.exitcode().value_or(-1);
}
