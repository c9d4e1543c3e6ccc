#include "executors/processes/detail/launch.hpp"

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <deque>
#include <dlfcn.h>
#include <exception>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <unistd.h>
#include <vector>

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <system_error>

#include "executors/processes/detail/payload.hpp"
#include "executors/processes/main_guard.hpp"
#include "executors/shared/detail/attachments.hpp"
#include "runtime/errors.hpp"

extern char** environ; // NOLINT: POSIX

namespace weft
{
namespace
{

constexpr const char* payload_env = "WEFT_SPAWN_PAYLOAD_FD";
constexpr const char* forkserver_env = "WEFT_FORKSERVER_FD";
constexpr const char* parent_env = "WEFT_PARENT_PID";
constexpr const char* extra_fds_env = "WEFT_EXTRA_FDS";
// A test's detail::tid_field_lookup for the fork servers a program starts.
constexpr const char* tid_lookup_env = "WEFT_FORKSERVER_TID_LOOKUP";

// The fork server's reply when it cannot give children their own cached TID.
constexpr std::int64_t no_tid_field_reply = -EOPNOTSUPP;

class launcher;
class forkserver_client;

std::atomic<bool> g_main_guard_called{false};
std::mutex g_instances_mutex; // guards the two pointers below
launcher* g_launcher = nullptr;
forkserver_client* g_forkserver = nullptr;
std::atomic<bool> g_launcher_started{false};
std::vector<std::string> g_argv;
std::string g_process_name = "MainProcess";
bool g_daemon = false;
std::vector<int> g_inherited_fds;

[[noreturn]] void fail_child(const char* what, const std::string& detail)
{
    std::fprintf(stderr, "weft: %s: %s\n", what, detail.c_str());
    std::fflush(nullptr);
    std::_Exit(1);
}

std::string demangled(const char* mangled)
{
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(
        abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

// Python prints the traceback and exits with 1; here the type and what() are the traceback.
void report_exception(const std::string& name)
{
    const std::type_info* type = abi::__cxa_current_exception_type();
    std::string what = "(not a std::exception)";
    try
    {
        throw;
    }
    catch (const std::exception& e)
    {
        what = e.what();
    }
    catch (...)
    {
    }
    std::fprintf(stderr, "Process %s: %s: %s\n", name.c_str(),
                 type != nullptr ? demangled(type->name()).c_str() : "unknown", what.c_str());
}

// The child dies with its parent: SIGKILL when the thread that created it exits (weft creates
// every child on the main thread or on its launcher thread, which both live as long as the
// process), and at once if the parent is already gone.
void die_with_parent(pid_t parent)
{
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
    {
        std::_Exit(1);
    }
}

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

// Decodes and runs a payload in a spawned or forkserver child, then exits.
[[noreturn]] void run_payload_and_exit(int fd, pid_t parent)
{
    die_with_parent(parent);
    std::string bytes;
    detail::payload_header header;
    detail::trampoline entry = nullptr;
    std::uintptr_t target = 0;
    try
    {
        bytes = read_all(fd);
        ::close(fd);
        detail::wire_reader reader(bytes);
        reader.archive()(header);
        if (header.magic != detail::payload_header::magic_value)
        {
            fail_child("a child process", "what the parent sent is not a weft payload");
        }
        entry = reinterpret_cast<detail::trampoline>(detail::resolve_code(header.entry));
        target = header.has_target ? detail::resolve_code(header.target) : 0;
        g_process_name = header.name;
        g_daemon = header.daemon;
        // The archive is positioned after the header: the trampoline reads the arguments; the
        // shared memory among them arrived as the inherited descriptors.
        try
        {
            detail::attachment_inbox inbox(detail::inherited_fds());
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

int parse_fd(const char* text)
{
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < 0 || value > 1 << 30)
    {
        fail_child("main_guard", std::string("malformed descriptor ") + text);
    }
    return static_cast<int>(value);
}

// glibc describes its thread block to debuggers (libthread_db) with exported tables:
// _thread_db_pthread_tid is {size in bits, count, offset} of struct pthread's tid, and
// pthread_self() is the address of the calling thread's struct pthread. For a kernel without
// PR_GET_TID_ADDRESS (it needs CONFIG_CHECKPOINT_RESTORE).
pid_t* thread_db_tid_field() noexcept
{
    const auto* field =
        static_cast<const std::uint32_t*>(::dlsym(RTLD_DEFAULT, "_thread_db_pthread_tid"));
    if (field == nullptr || field[0] != 8 * sizeof(pid_t) || field[1] != 1)
    {
        return nullptr;
    }
    auto* address = reinterpret_cast<pid_t*>(reinterpret_cast<char*>(::pthread_self()) + field[2]);
    return *address == ::gettid() ? address : nullptr;
}

// What glibc's fork() sets up in a child and a raw clone() does not: the TID cached in the
// thread's control block (pthread mutexes store it in their futex word, so a robust or
// error-checking mutex locked in the child would name the server's thread), and the thread's
// robust futex list (which the kernel clears in a child: without it a child that dies holding
// an interprocess lock would leave it held).
struct glibc_thread_identity
{
    pid_t* tid_field = nullptr; // glibc's TCB tid, the address it gave set_tid_address
    void* robust_head = nullptr;
    std::size_t robust_length = 0;

    static glibc_thread_identity of_this_thread(detail::tid_field_lookup how) noexcept
    {
        glibc_thread_identity identity;
        int* address = nullptr;
        if (how == detail::tid_field_lookup::any &&
            ::prctl(PR_GET_TID_ADDRESS, &address, 0, 0, 0) == 0 && address != nullptr &&
            *address == ::gettid())
        {
            identity.tid_field = address;
        }
        else if (how != detail::tid_field_lookup::none)
        {
            identity.tid_field = thread_db_tid_field();
        }
        ::syscall(SYS_get_robust_list, 0, &identity.robust_head, &identity.robust_length);
        return identity;
    }

    // In the child: the TID was written by the kernel (CLONE_CHILD_SETTID); register the same
    // robust list head (the same address in the copied memory).
    void adopt_in_child() const noexcept
    {
        if (tid_field != nullptr)
        {
            ::syscall(SYS_set_tid_address, tid_field);
        }
        if (robust_head != nullptr)
        {
            ::syscall(SYS_set_robust_list, robust_head, robust_length);
        }
    }
};

// clone(CLONE_PARENT | CLONE_CHILD_SETTID): the raw system call, whose last two arguments
// (child TID pointer, TLS) come in another order on x86-64 than elsewhere.
long raw_clone_parent(pid_t* child_tid) noexcept
{
    const unsigned long flags =
        CLONE_PARENT | SIGCHLD | (child_tid != nullptr ? CLONE_CHILD_SETTID : 0UL);
#if defined(__x86_64__)
    return ::syscall(SYS_clone, flags, 0, 0, child_tid, 0);
#else
    return ::syscall(SYS_clone, flags, 0, 0, 0, child_tid);
#endif
}

// The lookup a test asked for (set_forkserver_tid_lookup_for_testing), else any.
detail::tid_field_lookup requested_tid_lookup() noexcept
{
    const char* text = std::getenv(tid_lookup_env);
    const std::string_view how = text != nullptr ? text : "";
    ::unsetenv(tid_lookup_env); // not the children's business
    return how == "without_prctl" ? detail::tid_field_lookup::without_prctl
           : how == "none"        ? detail::tid_field_lookup::none
                                  : detail::tid_field_lookup::any;
}

// The fork server: single threaded, it forks a child per request with CLONE_PARENT, so that
// the child belongs to the program that asked for it (which reaps it through a pidfd), and
// replies with the child's pid or a negative errno. It exits when the program closes its end.
// A plain fork() would set the cached TID but make the child the server's, whose exit status
// the program could not collect; so when the server cannot find glibc's TID field it forks
// nothing and replies no_tid_field_reply.
[[noreturn]] void run_forkserver(int socket, pid_t parent)
{
    die_with_parent(parent);
    const glibc_thread_identity identity =
        glibc_thread_identity::of_this_thread(requested_tid_lookup());
    for (;;)
    {
        std::uint32_t magic = 0;
        iovec io{&magic, sizeof magic};
        // The payload first, then the descriptors the child inherits (inherited_fds()).
        constexpr std::size_t most = 1 + detail::max_extra_fds;
        alignas(cmsghdr) char control[CMSG_SPACE(most * sizeof(int))] = {};
        msghdr message{};
        message.msg_iov = &io;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n <= 0)
        {
            std::_Exit(0); // the program closed its end or is gone
        }
        int fds[most];
        std::size_t count = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c))
        {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            {
                const std::size_t here = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (std::size_t i = 0; i < here && count < most; ++i)
                {
                    std::memcpy(&fds[count++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                }
            }
        }
        const int payload = count > 0 ? fds[0] : -1;
        std::int64_t reply = -EPROTO;
        if (identity.tid_field == nullptr)
        {
            reply = no_tid_field_reply;
        }
        else if (payload >= 0 && magic == detail::payload_header::magic_value)
        {
            // CLONE_CHILD_SETTID: the kernel writes the child's TID into glibc's thread block,
            // as glibc's own fork does (robust mutexes store it, see adopt_in_child()).
            const long pid = raw_clone_parent(identity.tid_field);
            if (pid == 0)
            {
                identity.adopt_in_child();
                ::close(socket);
                g_inherited_fds.assign(fds + 1, fds + count);
                run_payload_and_exit(payload, parent);
            }
            reply = pid > 0 ? pid : -errno;
        }
        for (std::size_t i = 0; i < count; ++i)
        {
            ::close(fds[i]);
        }
        if (::send(socket, &reply, sizeof reply, MSG_NOSIGNAL) != sizeof reply)
        {
            std::_Exit(0);
        }
    }
}

// --- Creating children ----------------------------------------------------------------------

struct spawn_request
{
    const char* path = "/proc/self/exe";
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    int keep_fds[1 + detail::max_extra_fds] = {};
    std::size_t keep_count = 0;
    sigset_t mask{};
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

void reap_now(int pidfd) noexcept
{
    siginfo_t info{};
    while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) !=
               0 &&
           errno == EINTR)
    {
    }
}

// Re-executes this program with `variable` (NAME=fd) set and `keep_fd` and `extra_fds`
// inherited (the latter named in WEFT_EXTRA_FDS).
detail::child_handle spawn_self(const std::string& variable, int keep_fd,
                                std::span<const int> extra_fds = {})
{
    if (extra_fds.size() > detail::max_extra_fds)
    {
        throw std::invalid_argument("weft: too many descriptors for a child");
    }
    std::vector<char*> argv;
    for (std::string& arg : g_argv)
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
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, &request.mask);
    int pidfd = -1;
    const pid_t pid =
        libc_clone()(&spawn_child_main, static_cast<char*>(stack) + stack_size,
                     CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &request, &pidfd);
    const int clone_error = errno;
    ::pthread_sigmask(SIG_SETMASK, &request.mask, nullptr);
    ::munmap(stack, stack_size);
    if (pid < 0)
    {
        throw std::system_error(clone_error, std::system_category(), "weft: clone for spawn");
    }
    detail::child_handle child{pid, uring::owned_fd(pidfd)};
    if (request.error != 0)
    {
        reap_now(child.pidfd.get());
        throw std::system_error(request.error, std::system_category(),
                                "weft: execve /proc/self/exe");
    }
    return child;
}

// Every child is created on a thread that lives as long as the process: the parent-death
// signal fires when the creating *thread* exits, so a child started from a short-lived thread
// would otherwise be killed with it. The main thread qualifies; other threads hand the work
// to one launcher thread, started on first need and kept until exit.
class launcher
{
  public:
    // Never destroyed: the thread outlives main. A forked child gets a fresh one (see
    // forget_after_fork): the thread did not survive the fork, and the mutex may not have.
    static launcher& instance()
    {
        std::lock_guard lock(g_instances_mutex);
        if (g_launcher == nullptr)
        {
            g_launcher = new launcher();
        }
        return *g_launcher;
    }

    static void forget_after_fork() noexcept
    {
        g_launcher = nullptr; // leaked: its state belongs to the parent
        g_launcher_started.store(false);
    }

    template <class Fn>
    auto run(Fn fn) -> decltype(fn())
    {
        if (::gettid() == ::getpid())
        {
            return fn();
        }
        using result = decltype(fn());
        std::optional<result> value;
        std::exception_ptr error;
        bool done = false;
        {
            std::unique_lock lock(m_mutex);
            if (!m_started)
            {
                std::thread([this] { loop(); }).detach();
                m_started = true;
                g_launcher_started.store(true);
            }
            m_jobs.emplace_back(
                [&]
                {
                    try
                    {
                        value.emplace(fn());
                    }
                    catch (...)
                    {
                        error = std::current_exception();
                    }
                    std::lock_guard done_lock(m_mutex);
                    done = true;
                    m_done.notify_all();
                });
            m_work.notify_one();
            m_done.wait(lock, [&] { return done; });
        }
        if (error)
        {
            std::rethrow_exception(error);
        }
        return std::move(*value);
    }

  private:
    launcher() = default;

    void loop()
    {
        std::unique_lock lock(m_mutex);
        for (;;)
        {
            m_work.wait(lock, [this] { return !m_jobs.empty(); });
            std::function<void()> job = std::move(m_jobs.front());
            m_jobs.pop_front();
            lock.unlock();
            job();
            lock.lock();
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_work;
    std::condition_variable m_done;
    std::deque<std::function<void()>> m_jobs;
    bool m_started = false;
};

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

class forkserver_client
{
  public:
    static forkserver_client& instance()
    {
        std::lock_guard lock(g_instances_mutex);
        if (g_forkserver == nullptr)
        {
            g_forkserver = new forkserver_client();
            std::atexit([] { g_forkserver->stop(); });
        }
        return *g_forkserver;
    }

    // A forked child must not talk to its parent's server (the server's children would be the
    // parent's) nor keep the server's socket open (the server would outlive the parent's
    // close): drop both, without the mutex, which may have been held at the fork.
    static void forget_after_fork() noexcept
    {
        if (g_forkserver != nullptr)
        {
            g_forkserver->m_socket.reset();
            g_forkserver->m_server.pidfd.reset(); // not this process's child: nothing to reap
            g_forkserver = nullptr;               // leaked: its mutex belongs to the parent
        }
    }

    detail::child_handle launch(const std::string& payload, std::span<const int> extra_fds)
    {
        if (extra_fds.size() > detail::max_extra_fds)
        {
            throw std::invalid_argument("weft: too many descriptors for a child");
        }
        uring::owned_fd memfd = payload_memfd(payload);
        std::lock_guard lock(m_mutex);
        // A server that died (killed by someone) is replaced once.
        for (int attempt = 0;; ++attempt)
        {
            if (!m_socket.valid())
            {
                start();
            }
            std::int64_t reply = 0;
            if (request(memfd.get(), extra_fds, reply))
            {
                if (reply == no_tid_field_reply)
                {
                    throw std::system_error(
                        EOPNOTSUPP, std::system_category(),
                        "weft: start_method::forkserver cannot work here: the fork server cannot "
                        "find glibc's cached thread id to give its children their own (no "
                        "PR_GET_TID_ADDRESS, which needs a kernel with CONFIG_CHECKPOINT_RESTORE, "
                        "and no _thread_db_pthread_tid in glibc), so their locks would name the "
                        "server's thread; use start_method::spawn or start_method::fork");
                }
                if (reply < 0)
                {
                    throw std::system_error(static_cast<int>(-reply), std::system_category(),
                                            "weft: the fork server could not fork");
                }
                const auto pid = static_cast<pid_t>(reply);
                const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
                if (pidfd < 0)
                {
                    throw std::system_error(errno, std::system_category(), "weft: pidfd_open");
                }
                return detail::child_handle{pid, uring::owned_fd(pidfd)};
            }
            stop();
            if (attempt == 1)
            {
                throw std::system_error(EPIPE, std::system_category(),
                                        "weft: the fork server is gone");
            }
        }
    }

  private:
    void start()
    {
        int ends[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0)
        {
            throw std::system_error(errno, std::system_category(), "weft: socketpair");
        }
        uring::owned_fd ours(ends[0]);
        uring::owned_fd theirs(ends[1]);
        m_server = launcher::instance().run(
            [&]
            {
                return spawn_self(std::string(forkserver_env) + "=" + std::to_string(theirs.get()),
                                  theirs.get());
            });
        m_socket = std::move(ours);
    }

    bool request(int memfd, std::span<const int> extra_fds, std::int64_t& reply)
    {
        std::uint32_t magic = detail::payload_header::magic_value;
        iovec io{&magic, sizeof magic};
        constexpr std::size_t most = 1 + detail::max_extra_fds;
        alignas(cmsghdr) char control[CMSG_SPACE(most * sizeof(int))] = {};
        const std::size_t count = 1 + extra_fds.size();
        msghdr message{};
        message.msg_iov = &io;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = CMSG_SPACE(count * sizeof(int));
        cmsghdr* c = CMSG_FIRSTHDR(&message);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(count * sizeof(int));
        std::memcpy(CMSG_DATA(c), &memfd, sizeof memfd);
        for (std::size_t i = 0; i < extra_fds.size(); ++i)
        {
            std::memcpy(CMSG_DATA(c) + (i + 1) * sizeof(int), &extra_fds[i], sizeof(int));
        }
        ssize_t n = 0;
        do
        {
            n = ::sendmsg(m_socket.get(), &message, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n != sizeof magic)
        {
            return false;
        }
        do
        {
            n = ::recv(m_socket.get(), &reply, sizeof reply, 0);
        } while (n < 0 && errno == EINTR);
        return n == sizeof reply;
    }

    void stop() noexcept
    {
        m_socket.reset(); // the server sees end-of-file and exits
        if (m_server.pidfd.valid())
        {
            pollfd exited{m_server.pidfd.get(), POLLIN, 0};
            if (::poll(&exited, 1, 2000) == 0)
            {
                ::syscall(SYS_pidfd_send_signal, m_server.pidfd.get(), SIGKILL, nullptr, 0);
            }
            reap_now(m_server.pidfd.get());
            m_server.pidfd.reset();
        }
    }

    std::mutex m_mutex;
    uring::owned_fd m_socket;
    detail::child_handle m_server;
};

void forget_parent_state_after_fork() noexcept
{
    // The mutex may have been held by another thread at the fork: start from a fresh one.
    new (&g_instances_mutex) std::mutex();
    launcher::forget_after_fork();
    forkserver_client::forget_after_fork();
}

// Any fork, weft's or the program's own, runs this in the child.
const int g_atfork_registered = ::pthread_atfork(nullptr, nullptr, &forget_parent_state_after_fork);

} // namespace

const std::string& current_process_name() noexcept
{
    return g_process_name;
}

void main_guard(int argc, char** argv)
{
    if (g_main_guard_called.exchange(true))
    {
        return;
    }
    g_argv.assign(argv, argv + argc);
    const char* parent_text = std::getenv(parent_env);
    const pid_t parent = parent_text != nullptr ? static_cast<pid_t>(parse_fd(parent_text)) : 0;
    if (const char* payload = std::getenv(payload_env))
    {
        const int fd = parse_fd(payload);
        if (const char* extras = std::getenv(extra_fds_env))
        {
            // "3,7": the descriptors the parent passed along; closed on a later exec, so that
            // this child's own children do not inherit them.
            std::string list(extras);
            for (std::size_t start = 0; start < list.size();)
            {
                std::size_t end = list.find(',', start);
                end = end == std::string::npos ? list.size() : end;
                const int extra = parse_fd(list.substr(start, end - start).c_str());
                ::fcntl(extra, F_SETFD, FD_CLOEXEC);
                g_inherited_fds.push_back(extra);
                start = end + 1;
            }
            ::unsetenv(extra_fds_env);
        }
        ::unsetenv(payload_env);
        ::unsetenv(parent_env);
        run_payload_and_exit(fd, parent);
    }
    if (const char* server = std::getenv(forkserver_env))
    {
        const int fd = parse_fd(server);
        ::unsetenv(forkserver_env);
        ::unsetenv(parent_env);
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        run_forkserver(fd, parent);
    }
}

namespace detail
{

void set_forkserver_tid_lookup_for_testing(tid_field_lookup how)
{
    if (how == tid_field_lookup::any)
    {
        ::unsetenv(tid_lookup_env);
        return;
    }
    ::setenv(tid_lookup_env, how == tid_field_lookup::none ? "none" : "without_prctl", 1);
}

bool main_guard_called() noexcept
{
    return g_main_guard_called.load();
}

bool launcher_started() noexcept
{
    return g_launcher_started.load();
}

bool in_daemon_process() noexcept
{
    return g_daemon;
}

void check_can_start(bool needs_main_guard)
{
    if (std::getenv(payload_env) != nullptr || std::getenv(forkserver_env) != nullptr)
    {
        throw invalid_state_error(
            "weft: this process was started by weft to run a task, but main() started a process "
            "before calling weft::main_guard(argc, argv): call it first thing in main");
    }
    if (g_daemon)
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

child_handle spawn_payload(const std::string& payload, std::span<const int> extra_fds)
{
    uring::owned_fd memfd = payload_memfd(payload);
    return launcher::instance().run(
        [&]
        {
            return spawn_self(std::string(payload_env) + "=" + std::to_string(memfd.get()),
                              memfd.get(), extra_fds);
        });
}

child_handle forkserver_payload(const std::string& payload, std::span<const int> extra_fds)
{
    return forkserver_client::instance().launch(payload, extra_fds);
}

const std::vector<int>& inherited_fds() noexcept
{
    return g_inherited_fds;
}

child_handle fork_and_run(const std::function<void()>& body, const std::string& name, bool daemon)
{
    return launcher::instance().run(
        [&]
        {
            const pid_t parent = ::getpid();
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
                die_with_parent(parent);
                g_process_name = name;
                g_daemon = daemon;
                int status = 0;
                try
                {
                    body();
                }
                catch (...)
                {
                    report_exception(name);
                    status = 1;
                }
                // The parent's atexit handlers and static destructors are the parent's.
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

} // namespace detail
} // namespace weft
