// The seeds' Test.value example: the parent changes a global after startup. A forked child is
// a copy of the parent and sees 999; a spawned child (and a forkserver one) is a fresh run of
// the program and sees 777, the value the program starts with.
#include <cstdio>
#include <weft/weft.hpp>

struct test_class
{
    static inline int value = 777;
};

void process_task()
{
    std::printf("%s child sees Test.value = %d\n", weft::current_process_name().c_str(),
                test_class::value);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    test_class::value = 999; // changed before creating the processes
    int failures = 0;
    for (const auto method :
         {weft::start_method::fork, weft::start_method::spawn, weft::start_method::forkserver})
    {
        weft::process process({.name = weft::to_string(method), .start_method = method},
                              process_task);
        process.start();
        process.join();
        failures += process.exitcode().value_or(-1) != 0;
    }
    return failures;
}
