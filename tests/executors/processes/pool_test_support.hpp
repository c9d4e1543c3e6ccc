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

#include <boost/test/unit_test.hpp>

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

// Descriptors open in this process now.
inline std::size_t open_fd_count()
{
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    {
        ++n;
    }
    return n;
}

// Names in /dev/shm now (weft makes none: its segments are anonymous memfds).
inline std::size_t dev_shm_count()
{
    std::size_t n = 0;
    std::error_code error;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator("/dev/shm", error))
    {
        ++n;
    }
    return n;
}

// Starts the fork server once, so that its socket is open before any leak_check counts.
inline void start_forkserver()
{
    weft::process warm(
        {.start_method = start_method::forkserver}, +[] {});
    warm.start();
    warm.join(patience);
}

// A fixture that checks, when each test case ends, that it left no descriptor, no shared
// memory segment and no /dev/shm name behind (children reaped too: no zombies).
struct leak_check
{
    std::size_t fds = open_fd_count();
    std::size_t segments = weft::detail::shared_segment::live_count();
    std::size_t shm = dev_shm_count();

    ~leak_check()
    {
        BOOST_TEST(open_fd_count() == fds);
        BOOST_TEST(weft::detail::shared_segment::live_count() == segments);
        BOOST_TEST(dev_shm_count() == shm);
        BOOST_TEST(zombie_children() == 0);
    }
};

} // namespace weft::test
