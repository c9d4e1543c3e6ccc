#include "executors/processes/detail/child_main.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <signal.h>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <system_error>

#include "executors/processes/detail/exception_description.hpp"
#include "executors/processes/detail/launch.hpp"
#include "executors/processes/detail/payload.hpp"
#include "executors/processes/detail/throw_sites.hpp"
#include "executors/processes/main_guard.hpp"
#include "executors/shared/detail/attachments.hpp"

namespace weft
{
namespace
{

std::string g_process_name = "MainProcess";
bool g_daemon = false;
std::vector<int> g_inherited_fds;

std::string read_all(int fd)
{
    struct stat info
    {
    };
    if (::fstat(fd, &info) != 0)
    {
        throw std::system_error(errno, std::system_category(), "fstat payload");
    }
    std::string bytes(static_cast<std::size_t>(info.st_size), '\0');
    std::size_t done = 0;
    while (done < bytes.size())
    {
        const ssize_t n =
            ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n <= 0)
        {
            throw std::system_error(n < 0 ? errno : EIO, std::system_category(), "read payload");
        }
        done += static_cast<std::size_t>(n);
    }
    return bytes;
}

} // namespace

const std::string& current_process_name() noexcept
{
    return g_process_name;
}

namespace detail
{

const std::vector<int>& inherited_fds() noexcept
{
    return g_inherited_fds;
}

bool in_daemon_process() noexcept
{
    return g_daemon;
}

void take_process_identity(const std::string& name, bool daemon)
{
    g_process_name = name;
    g_daemon = daemon;
}

void set_inherited_fds(std::vector<int> fds)
{
    g_inherited_fds = std::move(fds);
}

void die_with_parent(pid_t parent)
{
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
    {
        std::_Exit(1);
    }
}

void report_exception(const std::string& name)
{
    const exception_description caught = describe_current_exception();
    std::fprintf(stderr, "Process %s: %s: %s\n%s", name.c_str(), caught.type_name.c_str(),
                 caught.what.c_str(), caught.backtrace.c_str());
}

void fail_child(const char* what, const std::string& detail)
{
    std::fprintf(stderr, "weft: %s: %s\n", what, detail.c_str());
    std::fflush(nullptr);
    std::_Exit(1);
}

void run_payload_and_exit(int fd, pid_t parent, bool restore_interrupts)
{
    die_with_parent(parent);
    std::string bytes;
    payload_header header;
    trampoline entry = nullptr;
    std::uintptr_t target = 0;
    try
    {
        bytes = read_all(fd);
        ::close(fd);
        wire_reader reader(bytes);
        reader.archive()(header);
        if (header.magic != payload_header::magic_value)
        {
            fail_child("a child process", "what the parent sent is not a weft payload");
        }
        entry = reinterpret_cast<trampoline>(resolve_code(header.entry));
        target = header.has_target ? resolve_code(header.target) : 0;
        take_process_identity(header.name, header.daemon);
        if (header.ignores_interrupts)
        {
            (void)::signal(SIGINT, SIG_IGN);
        }
        else if (restore_interrupts)
        {
            (void)::signal(SIGINT, SIG_DFL);
        }
        // The archive is positioned after the header: the trampoline reads the arguments; the
        // shared memory among them arrived as the inherited descriptors.
        try
        {
            attachment_inbox inbox(inherited_fds());
            const throw_site_recording recording(__builtin_frame_address(0));
            entry(target, reader.archive());
        }
        catch (...)
        {
            report_exception(g_process_name);
            std::fflush(nullptr);
            std::exit(1);
        }
    }
    catch (const std::exception& e)
    {
        fail_child("a child process could not run what its parent sent", e.what());
    }
    std::fflush(nullptr);
    std::exit(0);
}

} // namespace detail
} // namespace weft
