#pragma once
// What the weft::process tests look at: the start methods to run under, whether a pid is
// still there, and a child's exit code.

#include <cerrno>
#include <fstream>
#include <signal.h>
#include <string>
#include <weft/weft.hpp>

namespace weft::testing
{

inline constexpr start_method all_methods[] = {start_method::fork, start_method::spawn,
                                               start_method::forkserver};

inline bool pid_exists(pid_t pid)
{
    return ::kill(pid, 0) == 0 || errno != ESRCH;
}

/// Alive and not a zombie: an orphan's zombie lingers until whoever adopted it reaps it, and
/// in a container that may be never.
inline bool pid_running(pid_t pid)
{
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text))
    {
        return false;
    }
    const auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z' &&
           text[close + 2] != 'X';
}

/// Not an exit code: those are 0..255 or minus a signal.
inline constexpr int still_running = 1000;

inline int exit_of(process& p)
{
    return p.exitcode().value_or(still_running);
}

} // namespace weft::testing
