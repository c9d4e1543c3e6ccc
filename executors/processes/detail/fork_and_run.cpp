// start_method::fork: the child runs its target from its copy of this process's memory.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <signal.h>
#include <string>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <system_error>

#include "executors/processes/detail/child_main.hpp"
#include "executors/processes/detail/child_registry.hpp"
#include "executors/processes/detail/launch.hpp"
#include "executors/processes/detail/launcher_thread.hpp"
#include "executors/processes/detail/throw_sites.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

child_handle fork_and_run(const std::function<void()>& body, const std::string& name, bool daemon)
{
    return on_long_lived_thread(
        [&]
        {
            const pid_t parent = ::getpid();
            // Forked on weft's launcher thread, the child would carry its name (weft-launcher)
            // in ps and top: it takes the name of the program's main thread, as a child forked
            // there would.
            char program_name[16] = {};
            if (::gettid() != parent)
            {
                if (FILE* comm = std::fopen(
                        ("/proc/self/task/" + std::to_string(parent) + "/comm").c_str(), "re"))
                {
                    if (std::fgets(program_name, sizeof program_name, comm) != nullptr)
                    {
                        program_name[std::strcspn(program_name, "\n")] = '\0';
                    }
                    std::fclose(comm);
                }
            }
            // Output buffered before the fork would otherwise be written twice (Python flushes
            // here too).
            std::fflush(nullptr);
            const pid_t pid = ::fork();
            if (pid < 0)
            {
                throw std::system_error(errno, std::system_category(), "weft: fork");
            }
            if (pid == 0)
            {
                // Forked on the launcher thread, which blocks asynchronous signals: the child takes
                // the mask of the thread that asked for it.
                ::pthread_sigmask(SIG_SETMASK, &child_signal_mask(), nullptr);
                if (program_name[0] != '\0')
                {
                    (void)::prctl(PR_SET_NAME, program_name);
                }
                // A target that calls std::exit must not run the parent's atexit handlers and
                // static destructors either: handlers run last registered first, so this one
                // runs before any of the parent's and leaves with the status exit() was given.
                ::on_exit(
                    [](int status, void*)
                    {
                        std::fflush(nullptr);
                        std::_Exit(status);
                    },
                    nullptr);
                die_with_parent(parent);
                take_process_identity(name, daemon);
                int status = 0;
                try
                {
                    const throw_site_recording recording(__builtin_frame_address(0));
                    body();
                }
                catch (...)
                {
                    report_exception(name);
                    status = 1;
                }
                // The parent's atexit handlers and static destructors are the parent's; the
                // children this one started and never joined are its own.
                finish_children_at_exit();
                std::fflush(nullptr);
                std::_Exit(status);
            }
            const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
            if (pidfd < 0)
            {
                const int error = errno;
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
                throw std::system_error(error, std::system_category(), "weft: pidfd_open");
            }
            return child_handle{pid, uring::owned_fd(pidfd)};
        });
}

} // namespace weft::detail
