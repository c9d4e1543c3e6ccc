#include "executors/processes/detail/spawn_self.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <dlfcn.h>
#include <fcntl.h>
#include <initializer_list>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <system_error>

#include "executors/processes/detail/child_environment.hpp"
#include "executors/processes/detail/launcher_thread.hpp"

extern char** environ; // NOLINT: POSIX

namespace weft::detail
{
namespace
{

struct spawn_request
{
    const char* path = "/proc/self/exe";
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    int keep_fds[1 + max_extra_fds] = {};
    std::size_t keep_count = 0;
    sigset_t mask{};
    bool ignore_interrupts = false;
    int error = 0;
};

struct kernel_sigaction
{
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    std::uint64_t mask;
};

// Runs in the child between clone(CLONE_VM | CLONE_VFORK) and execve, on a stack of its own,
// sharing the parent's memory while the parent waits: raw system calls only (no allocation, no
// sanitizer interceptors, which would touch the parent's state), as posix_spawn does.
__attribute__((no_sanitize("address", "thread", "undefined"))) int spawn_child_main(void* raw)
{
    auto* request = static_cast<spawn_request*>(raw);
    // The parent's handlers must not run here before execve: back to the default.
    for (int sig = 1; sig < 65; ++sig)
    {
        if (sig == SIGKILL || sig == SIGSTOP)
        {
            continue;
        }
        kernel_sigaction old{};
        if (::syscall(SYS_rt_sigaction, sig, nullptr, &old, 8) == 0 && old.handler != SIG_IGN &&
            old.handler != SIG_DFL)
        {
            kernel_sigaction fallback{};
            fallback.handler = SIG_DFL;
            ::syscall(SYS_rt_sigaction, sig, &fallback, nullptr, 8);
        }
    }
    if (request->ignore_interrupts)
    {
        kernel_sigaction ignore{};
        ignore.handler = SIG_IGN;
        ::syscall(SYS_rt_sigaction, SIGINT, &ignore, nullptr, 8);
    }
    for (std::size_t i = 0; i < request->keep_count; ++i)
    {
        ::syscall(SYS_fcntl, request->keep_fds[i], F_SETFD, 0);
    }
    ::syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &request->mask, nullptr, 8);
    ::syscall(SYS_execve, request->path, request->argv, request->envp);
    request->error = errno;
    ::syscall(SYS_exit, 127);
    return 127;
}

// glibc's clone itself, not a sanitizer's interceptor: ThreadSanitizer intercepts clone() as a
// fork and resets its bookkeeping in the child, which with CLONE_VM is the parent's own, so
// every lock the parent takes afterwards goes unseen and it reports races that are not there.
using clone_function = int (*)(int (*)(void*), void*, int, void*, ...);

clone_function libc_clone()
{
    static const clone_function real = []
    {
        void* libc = ::dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
        void* symbol = libc != nullptr ? ::dlsym(libc, "clone") : nullptr;
        return symbol != nullptr ? reinterpret_cast<clone_function>(symbol) : &::clone;
    }();
    return real;
}

bool is_weft_variable(std::string_view entry)
{
    for (const char* name : {payload_env, forkserver_env, parent_env, extra_fds_env})
    {
        const std::string_view prefix(name);
        if (entry.size() > prefix.size() && entry.substr(0, prefix.size()) == prefix &&
            entry[prefix.size()] == '=')
        {
            return true;
        }
    }
    return false;
}

} // namespace

void reap_now(int pidfd) noexcept
{
    siginfo_t info{};
    while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) !=
               0 &&
           errno == EINTR)
    {
    }
}

child_handle spawn_self(const std::string& variable, int keep_fd, std::span<const int> extra_fds,
                        bool ignore_interrupts)
{
    if (extra_fds.size() > max_extra_fds)
    {
        throw std::invalid_argument("weft: too many descriptors for a child");
    }
    std::vector<std::string> args = main_guard_argv();
    std::vector<char*> argv;
    for (std::string& arg : args)
    {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    std::string parent_variable = std::string(parent_env) + "=" + std::to_string(::getpid());
    std::string own_variable = variable;
    std::vector<char*> envp;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    {
        if (!is_weft_variable(*e))
        {
            envp.push_back(*e);
        }
    }
    envp.push_back(own_variable.data());
    envp.push_back(parent_variable.data());
    std::string extras_variable = std::string(extra_fds_env) + "=";
    for (std::size_t i = 0; i < extra_fds.size(); ++i)
    {
        extras_variable += (i > 0 ? "," : "") + std::to_string(extra_fds[i]);
    }
    if (!extra_fds.empty())
    {
        envp.push_back(extras_variable.data());
    }
    envp.push_back(nullptr);

    spawn_request request;
    request.argv = argv.data();
    request.envp = envp.data();
    request.ignore_interrupts = ignore_interrupts;
    request.keep_fds[request.keep_count++] = keep_fd;
    for (const int fd : extra_fds)
    {
        request.keep_fds[request.keep_count++] = fd;
    }

    constexpr std::size_t stack_size = 64 * 1024;
    void* stack = ::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
    {
        throw std::system_error(errno, std::system_category(), "weft: mmap for spawn");
    }
    sigset_t all;
    sigset_t own;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, &own);
    request.mask = child_signal_mask();
    int pidfd = -1;
    const pid_t pid =
        libc_clone()(&spawn_child_main, static_cast<char*>(stack) + stack_size,
                     CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &request, &pidfd);
    const int clone_error = errno;
    ::pthread_sigmask(SIG_SETMASK, &own, nullptr);
    ::munmap(stack, stack_size);
    if (pid < 0)
    {
        throw std::system_error(clone_error, std::system_category(), "weft: clone for spawn");
    }
    child_handle child{pid, uring::owned_fd(pidfd)};
    if (request.error != 0)
    {
        reap_now(child.pidfd.get());
        throw std::system_error(request.error, std::system_category(),
                                "weft: execve /proc/self/exe");
    }
    return child;
}

uring::owned_fd payload_memfd(const std::string& payload)
{
    uring::owned_fd fd(::memfd_create("weft-payload", MFD_CLOEXEC));
    if (!fd.valid())
    {
        throw std::system_error(errno, std::system_category(), "weft: memfd_create");
    }
    std::size_t done = 0;
    while (done < payload.size())
    {
        const ssize_t n = ::write(fd.get(), payload.data() + done, payload.size() - done);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n < 0)
        {
            throw std::system_error(errno, std::system_category(), "weft: write payload");
        }
        done += static_cast<std::size_t>(n);
    }
    return fd;
}

child_handle spawn_payload(const std::string& payload, std::span<const int> extra_fds,
                           bool ignore_interrupts)
{
    uring::owned_fd memfd = payload_memfd(payload);
    return on_long_lived_thread(
        [&]
        {
            return spawn_self(std::string(payload_env) + "=" + std::to_string(memfd.get()),
                              memfd.get(), extra_fds, ignore_interrupts);
        });
}

} // namespace weft::detail
