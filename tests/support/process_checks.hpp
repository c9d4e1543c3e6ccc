#pragma once
// What the weft::process tests look at: the start methods to run under, whether a pid is
// still there, a process's live children, and a child's exit code.

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>
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

/// The live (not zombie) children of `parent`, from /proc.
inline std::vector<pid_t> children_of(pid_t parent)
{
    std::vector<pid_t> found;
    for (const auto& entry : std::filesystem::directory_iterator("/proc"))
    {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
        {
            continue;
        }
        std::ifstream stat(entry.path() / "stat");
        std::string text;
        std::getline(stat, text);
        const auto close = text.rfind(')');
        if (close == std::string::npos)
        {
            continue;
        }
        std::string state;
        pid_t ppid = 0;
        std::istringstream(text.substr(close + 2)) >> state >> ppid;
        if (ppid == parent && state != "Z")
        {
            found.push_back(static_cast<pid_t>(std::stoi(name)));
        }
    }
    return found;
}

/// Not an exit code: those are 0..255 or minus a signal.
inline constexpr int still_running = 1000;

inline int exit_of(process& p)
{
    return p.exitcode().value_or(still_running);
}

} // namespace weft::testing
