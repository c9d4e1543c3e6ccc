#pragma once
// Targets that tests run in child processes and pool workers. Free functions, as every start
// method needs: spawn and forkserver children find them by their address in this executable.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <unistd.h>

namespace weft::testing
{

inline void sleep_ms(int ms)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

inline int sleep_then(int ms, int value)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return value;
}

/// Leaves at once with `code`, as a crash would: no destructors, no atexit handlers.
inline void exit_with(int code)
{
    std::fflush(nullptr);
    std::_Exit(code);
}

inline pid_t my_pid()
{
    return ::getpid();
}

} // namespace weft::testing
