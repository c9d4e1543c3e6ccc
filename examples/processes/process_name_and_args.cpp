// A named process with five arguments, printing who it is and who its parent is. Python passes
// key1/key2 as keyword arguments; C++ passes them in order.
#include <cstdio>
#include <string>
#include <unistd.h>
#include <weft/weft.hpp>

void process_task(int x, int y, int z, std::string key1, std::string key2)
{
    std::printf("\n%s has pid: %d with parent pid: %d\n", weft::current_process_name().c_str(),
                static_cast<int>(::getpid()), static_cast<int>(::getppid()));
    std::printf("Received arguments %d %d %d %s %s\n\n", x, y, z, key1.c_str(), key2.c_str());
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    weft::process process({.name = "process-1"}, process_task, 1, 2, 3, std::string("arg1"),
                          std::string("arg2"));
    process.start();
    process.join();
    return process.exitcode().value_or(-1);
}
