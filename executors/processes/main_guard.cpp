#include "executors/processes/main_guard.hpp"

#include <atomic>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

#include <sys/types.h>

#include "executors/processes/detail/child_environment.hpp"
#include "executors/processes/detail/child_main.hpp"
#include "executors/processes/detail/forkserver.hpp"
#include "executors/processes/detail/launch.hpp"
#include "runtime/errors.hpp"

namespace weft
{
namespace
{

std::atomic<bool> g_main_guard_called{false};
std::vector<std::string> g_argv;

int parse_fd(const char* text)
{
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < 0 || value > 1 << 30)
    {
        detail::fail_child("main_guard", std::string("malformed descriptor ") + text);
    }
    return static_cast<int>(value);
}

// "3,7": the descriptors the parent passed along; closed on a later exec, so that this child's
// own children do not inherit them.
std::vector<int> parse_extra_fds(const std::string& list)
{
    std::vector<int> fds;
    for (std::size_t start = 0; start < list.size();)
    {
        std::size_t end = list.find(',', start);
        end = end == std::string::npos ? list.size() : end;
        const int extra = parse_fd(list.substr(start, end - start).c_str());
        ::fcntl(extra, F_SETFD, FD_CLOEXEC);
        fds.push_back(extra);
        start = end + 1;
    }
    return fds;
}

} // namespace

void main_guard(int argc, char** argv)
{
    if (g_main_guard_called.exchange(true))
    {
        return;
    }
    g_argv.assign(argv, argv + argc);
    const char* parent_text = std::getenv(detail::parent_env);
    const pid_t parent = parent_text != nullptr ? static_cast<pid_t>(parse_fd(parent_text)) : 0;
    if (const char* payload = std::getenv(detail::payload_env))
    {
        const int fd = parse_fd(payload);
        if (const char* extras = std::getenv(detail::extra_fds_env))
        {
            detail::set_inherited_fds(parse_extra_fds(extras));
            ::unsetenv(detail::extra_fds_env);
        }
        ::unsetenv(detail::payload_env);
        ::unsetenv(detail::parent_env);
        detail::run_payload_and_exit(fd, parent);
    }
    if (const char* server = std::getenv(detail::forkserver_env))
    {
        const int fd = parse_fd(server);
        ::unsetenv(detail::forkserver_env);
        ::unsetenv(detail::parent_env);
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        detail::run_forkserver(fd, parent);
    }
}

namespace detail
{

bool main_guard_called() noexcept
{
    return g_main_guard_called.load();
}

const std::vector<std::string>& main_guard_argv() noexcept
{
    return g_argv;
}

void check_can_start(bool needs_main_guard)
{
    if (std::getenv(payload_env) != nullptr || std::getenv(forkserver_env) != nullptr)
    {
        throw invalid_state_error(
            "weft: this process was started by weft to run a task, but main() started a process "
            "before calling weft::main_guard(argc, argv): call it first thing in main");
    }
    if (in_daemon_process())
    {
        throw invalid_state_error("weft: a daemon process is not allowed to have children");
    }
    if (needs_main_guard && !main_guard_called())
    {
        throw invalid_state_error(
            "weft: start_method::spawn and start_method::forkserver run this executable again: "
            "call weft::main_guard(argc, argv) first thing in main (Python's "
            "`if __name__ == \"__main__\"`), or use start_method::fork");
    }
}

} // namespace detail
} // namespace weft
