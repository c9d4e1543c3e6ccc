#include "executors/shared/detail/name_keeper.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <new>
#include <pthread.h>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <system_error>

extern char** environ;

namespace weft::detail::name_keeper
{
namespace
{

constexpr const char* keeper_env = "WEFT_NAME_KEEPER";
// The keeper finds its pipe and table here (posix_spawn's dup2 puts them there).
constexpr int keeper_pipe_fd = 3;
constexpr int keeper_table_fd = 4;

// One owned name. The owner writes the fields, then sets `live` (release); the keeper reads
// only after the owner is gone, so a name half written when the owner died is never live.
struct slot
{
    std::atomic<std::uint32_t> live;
    std::uint32_t dev_major;
    std::uint32_t dev_minor;
    std::uint64_t ino;
    char name[NAME_MAX + 2]; // "/" + a file name + NUL
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

constexpr std::size_t slot_count = 1024;
constexpr std::size_t table_bytes = sizeof(slot) * slot_count;

struct keeper_state
{
    std::mutex mutex;
    slot* table = nullptr;
    int pipe_write_end = -1;
    std::size_t kept = 0;
};

// Never destroyed: names may be forgotten during static teardown.
keeper_state*& state_slot()
{
    static keeper_state* s = new keeper_state;
    return s;
}

// A forked child owns none of its parent's names (the handles it inherits know they are not
// the owner's: see shared_segment): it lets go of the parent's pipe, so that the keeper is not
// kept waiting for the child's end, and starts from nothing.
void fresh_state_in_child() noexcept
{
    keeper_state* old = state_slot();
    if (old->pipe_write_end >= 0)
    {
        ::close(old->pipe_write_end);
    }
    if (old->table != nullptr)
    {
        ::munmap(old->table, table_bytes);
    }
    state_slot() = new (std::nothrow) keeper_state;
}

const int g_atfork_registered = ::pthread_atfork(nullptr, nullptr, &fresh_state_in_child);

[[noreturn]] void throw_errno(int error, const char* what)
{
    throw std::system_error(error, std::system_category(), what);
}

// Starts the keeper: a fresh image of this program (posix_spawn of /proc/self/exe, so it holds
// none of this process's memory), which the constructor below turns into the keeper before
// anything else of the program runs.
void start(keeper_state& s)
{
    const int table_fd = ::memfd_create("weft-name-keeper", MFD_CLOEXEC);
    if (table_fd < 0)
    {
        throw_errno(errno, "weft: memfd_create for the shared memory name keeper");
    }
    struct fd_closer
    {
        int fd;
        ~fd_closer() { ::close(fd); }
    } table_closer{table_fd};
    if (::ftruncate(table_fd, static_cast<off_t>(table_bytes)) != 0)
    {
        throw_errno(errno, "weft: ftruncate for the shared memory name keeper");
    }
    void* table = ::mmap(nullptr, table_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, table_fd, 0);
    if (table == MAP_FAILED)
    {
        throw_errno(errno, "weft: mmap for the shared memory name keeper");
    }
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0)
    {
        const int error = errno;
        ::munmap(table, table_bytes);
        throw_errno(error, "weft: pipe for the shared memory name keeper");
    }
    fd_closer read_closer{ends[0]};

    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, ends[0], keeper_pipe_fd);
    ::posix_spawn_file_actions_adddup2(&actions, table_fd, keeper_table_fd);
    std::vector<std::string> env_strings{std::string(keeper_env) + "=1"};
    std::vector<char*> env{env_strings.front().data()};
    for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    {
        if (std::strncmp(*e, keeper_env, std::strlen(keeper_env)) != 0)
        {
            env.push_back(*e);
        }
    }
    env.push_back(nullptr);
    char name[] = "weft-name-keeper";
    char* argv[] = {name, nullptr};
    pid_t first = -1;
    const int spawned =
        ::posix_spawn(&first, "/proc/self/exe", &actions, nullptr, argv, env.data());
    ::posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0)
    {
        ::close(ends[1]);
        ::munmap(table, table_bytes);
        throw_errno(spawned, "weft: starting the shared memory name keeper (/proc/self/exe)");
    }
    // The spawned process forks the keeper and exits at once: reap it, so that the keeper is
    // nobody's child here (a wait() for "any child" never meets it).
    int status = 0;
    pid_t reaped = -1;
    while ((reaped = ::waitpid(first, &status, 0)) < 0 && errno == EINTR)
    {
    }
    // Exit status 0 comes only from run_keeper's first step, after its fork: anything else
    // (this program could not be run again, or /proc/self/exe is a loader) means no keeper.
    if (reaped == first && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
    {
        ::close(ends[1]);
        ::munmap(table, table_bytes);
        throw std::system_error(ECHILD, std::system_category(),
                                "weft: the shared memory name keeper did not start (is "
                                "/proc/self/exe this program?)");
    }
    s.table = static_cast<slot*>(table);
    s.pipe_write_end = ends[1];
}

// What the keeper does: wait until every copy of the owner's pipe end is closed (the owner
// ended, however it ended), then unlink each name still recorded, if it still names the file
// the owner made.
[[noreturn]] void run_keeper()
{
    const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3 && null_fd >= 0; ++fd)
    {
        ::dup2(null_fd, fd); // no output of the program's to hold open, no terminal to read
    }
    // Anything this process got without O_CLOEXEC from the owner is not ours to hold.
    if (::syscall(SYS_close_range, keeper_table_fd + 1, ~0U, 0) != 0)
    {
        for (int fd = keeper_table_fd + 1; fd < 1024; ++fd)
        {
            ::close(fd);
        }
    }
    ::setsid(); // Ctrl-C in the owner's terminal must not end the keeper first
    const pid_t keeper = ::fork();
    if (keeper != 0)
    {
        ::_exit(keeper < 0 ? 1 : 0);
    }
    void* mapped = ::mmap(nullptr, table_bytes, PROT_READ, MAP_SHARED, keeper_table_fd, 0);
    char byte = 0;
    for (;;)
    {
        const ssize_t n = ::read(keeper_pipe_fd, &byte, 1);
        if (n == 0 || (n < 0 && errno != EINTR))
        {
            break;
        }
    }
    if (mapped == MAP_FAILED)
    {
        ::_exit(1);
    }
    const auto* table = static_cast<const slot*>(mapped);
    for (std::size_t i = 0; i < slot_count; ++i)
    {
        const slot& entry = table[i];
        if (entry.live.load(std::memory_order_acquire) == 0)
        {
            continue;
        }
        char path[sizeof("/dev/shm") + sizeof(entry.name)];
        std::snprintf(path, sizeof(path), "/dev/shm%.*s", static_cast<int>(sizeof(entry.name)),
                      entry.name);
        struct stat st
        {
        };
        if (::lstat(path, &st) == 0 && st.st_ino == entry.ino &&
            major(st.st_dev) == entry.dev_major && minor(st.st_dev) == entry.dev_minor)
        {
            ::unlink(path);
        }
    }
    ::_exit(0);
}

// Runs before the program's own static initialisation (priority 101, in a static library the
// first that may be used) and before main: only in the process started above.
__attribute__((constructor(101))) void become_keeper_if_asked()
{
    if (std::getenv(keeper_env) != nullptr)
    {
        run_keeper();
    }
}

} // namespace

void keep(const std::string& name, dev_t dev, ino_t ino)
{
    if (name.size() >= sizeof(slot::name))
    {
        throw std::length_error("weft: a shared memory name is too long");
    }
    keeper_state& s = *state_slot();
    std::lock_guard<std::mutex> held(s.mutex);
    if (s.table == nullptr)
    {
        start(s);
    }
    for (std::size_t i = 0; i < slot_count; ++i)
    {
        slot& entry = s.table[i];
        if (entry.live.load(std::memory_order_relaxed) != 0)
        {
            continue;
        }
        entry.dev_major = major(dev);
        entry.dev_minor = minor(dev);
        entry.ino = ino;
        std::memcpy(entry.name, name.c_str(), name.size() + 1);
        entry.live.store(1, std::memory_order_release);
        ++s.kept;
        return;
    }
    throw std::length_error("weft: this process owns 1024 named shared memory segments, the most "
                            "it can keep track of");
}

void forget(const std::string& name) noexcept
{
    keeper_state& s = *state_slot();
    std::lock_guard<std::mutex> held(s.mutex);
    if (s.table == nullptr)
    {
        return;
    }
    for (std::size_t i = 0; i < slot_count; ++i)
    {
        slot& entry = s.table[i];
        if (entry.live.load(std::memory_order_relaxed) != 0 && name == entry.name)
        {
            entry.live.store(0, std::memory_order_release);
            --s.kept;
            return;
        }
    }
}

std::size_t kept_count() noexcept
{
    keeper_state& s = *state_slot();
    std::lock_guard<std::mutex> held(s.mutex);
    return s.kept;
}

} // namespace weft::detail::name_keeper
