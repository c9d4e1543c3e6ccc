#pragma once
// What the process pool tests share: the start methods to run under, the bound on every wait,
// a task that reports its worker's pid and hangs (to be killed), and a zombie count from /proc.

#include <chrono>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <weft/weft.hpp>

namespace weft::test
{

using namespace std::chrono_literals;

inline constexpr start_method all_methods[] = {start_method::fork, start_method::spawn,
                                               start_method::forkserver};

// Every wait in these tests is bounded by this.
inline constexpr auto patience = 30s;

// Writes this worker's pid where the test looks for it, then hangs until killed.
inline int report_pid_and_hang(std::string path)
{
    {
        std::ofstream(path + ".tmp") << ::getpid();
    }
    std::filesystem::rename(path + ".tmp", path);
    std::this_thread::sleep_for(60s);
    return -1;
}

// The children of this process that are zombies (exited, not reaped).
inline int zombie_children()
{
    int zombies = 0;
    DIR* proc = ::opendir("/proc");
    const std::string me = std::to_string(::getpid());
    while (dirent* entry = ::readdir(proc))
    {
        std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
        std::string text;
        if (!std::getline(stat, text))
        {
            continue;
        }
        const auto close = text.rfind(')');
        if (close == std::string::npos || close + 4 >= text.size())
        {
            continue;
        }
        std::istringstream rest(text.substr(close + 2));
        std::string state;
        std::string ppid;
        rest >> state >> ppid;
        zombies += (ppid == me && state == "Z") ? 1 : 0;
    }
    ::closedir(proc);
    return zombies;
}

inline pid_t wait_for_pid_file(const std::string& path)
{
    const auto until = std::chrono::steady_clock::now() + patience;
    while (std::chrono::steady_clock::now() < until)
    {
        std::ifstream in(path);
        pid_t pid = 0;
        if (in >> pid && pid > 0)
        {
            return pid;
        }
        std::this_thread::sleep_for(1ms);
    }
    return 0;
}

// A path in the temporary directory unique to this process and `name`, removed first.
inline std::string fresh_temp_path(const std::string& name)
{
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("weft_" + name + "_" + std::to_string(::getpid())))
                                 .string();
    std::filesystem::remove(path);
    return path;
}

} // namespace weft::test
