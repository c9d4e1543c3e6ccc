#include "executors/shared/detail/name_keeper.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <pthread.h>
#include <random>
#include <signal.h>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <thread>
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

// Its value is a cookie, which the keeper writes into the table once it runs: the proof that
// /proc/self/exe was this program and reached the constructor below.
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

struct table
{
    std::atomic<std::uint64_t> ready; // the cookie, once the keeper runs
    slot slots[slot_count];
};
constexpr std::size_t table_bytes = sizeof(table);

struct keeper_state
{
    std::mutex mutex;
    table* shared = nullptr;
    int pipe_write_end = -1;
    std::size_t kept = 0;
};

// Never destroyed: names may be forgotten during static teardown.
keeper_state*& state_slot()
{
    static keeper_state* s = new keeper_state;
    return s;
}

// No fork while the keeper starts (its pipe's write end would be copied into the child
// unknown, and the keeper would wait for that child as well).
void lock_for_fork() noexcept
{
    state_slot()->mutex.lock();
}
void unlock_in_parent() noexcept
{
    state_slot()->mutex.unlock();
}

// A forked child owns none of its parent's names (the handles it inherits know they are not
// the owner's: see shared_segment): it lets go of the parent's pipe, so that the keeper is not
// kept waiting for the child's end, and starts from nothing. lock_for_fork took the mutex on
// this very thread, so the child unlocks it rather than abandoning it locked (a lock held
// forever would also make every lock the child takes later look out of order to
// ThreadSanitizer).
void fresh_state_in_child() noexcept
{
    keeper_state* state = state_slot();
    if (state->pipe_write_end >= 0)
    {
        ::close(state->pipe_write_end);
    }
    if (state->shared != nullptr)
    {
        ::munmap(state->shared, table_bytes);
    }
    state->shared = nullptr;
    state->pipe_write_end = -1;
    state->kept = 0;
    state->mutex.unlock();
}

const int g_atfork_registered =
    ::pthread_atfork(&lock_for_fork, &unlock_in_parent, &fresh_state_in_child);

[[noreturn]] void throw_errno(int error, const char* what)
{
    throw std::system_error(error, std::system_category(), what);
}

struct fd_closer
{
    int fd;
    ~fd_closer()
    {
        if (fd >= 0)
        {
            ::close(fd);
        }
    }
};

// A copy at 10 or above: posix_spawn's dup2 onto 3 and 4 must not overwrite either source.
int high_copy(int fd, const char* what)
{
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
    if (copy < 0)
    {
        throw_errno(errno, what);
    }
    return copy;
}

// Starts the keeper: a fresh image of this program (posix_spawn of /proc/self/exe, so it holds
// none of this process's memory), which the constructor below turns into the keeper before
// anything else of the program runs. Called with s.mutex held.
void start(keeper_state& s)
{
    fd_closer memfd{::memfd_create("weft-name-keeper", MFD_CLOEXEC)};
    if (memfd.fd < 0)
    {
        throw_errno(errno, "weft: memfd_create for the shared memory name keeper");
    }
    if (::ftruncate(memfd.fd, static_cast<off_t>(table_bytes)) != 0)
    {
        throw_errno(errno, "weft: ftruncate for the shared memory name keeper");
    }
    void* mapped = ::mmap(nullptr, table_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.fd, 0);
    if (mapped == MAP_FAILED)
    {
        throw_errno(errno, "weft: mmap for the shared memory name keeper");
    }
    struct unmap_unless_kept
    {
        void* at;
        ~unmap_unless_kept()
        {
            if (at != nullptr)
            {
                ::munmap(at, table_bytes);
            }
        }
    } mapping{mapped};
    auto* shared = static_cast<table*>(mapped);
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0)
    {
        throw_errno(errno, "weft: pipe for the shared memory name keeper");
    }
    fd_closer read_end{ends[0]};
    fd_closer write_end{ends[1]};
    const fd_closer high_read{high_copy(ends[0], "weft: name keeper pipe")};
    const fd_closer high_table{high_copy(memfd.fd, "weft: name keeper table")};

    std::random_device random;
    const std::uint64_t cookie = (static_cast<std::uint64_t>(random()) << 32 | random()) | 1;
    char env_entry[64];
    std::snprintf(env_entry, sizeof(env_entry), "%s=%llx", keeper_env,
                  static_cast<unsigned long long>(cookie));
    std::vector<char*> env{env_entry};
    for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    {
        if (std::strncmp(*e, keeper_env, std::strlen(keeper_env)) != 0)
        {
            env.push_back(*e);
        }
    }
    env.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, high_read.fd, keeper_pipe_fd);
    ::posix_spawn_file_actions_adddup2(&actions, high_table.fd, keeper_table_fd);
    // No terminal to read and no output of the owner's to hold open.
    for (int fd = 0; fd < 3; ++fd)
    {
        ::posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
    }
    posix_spawnattr_t attributes;
    ::posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    ::posix_spawnattr_setsigmask(&attributes, &none);
    ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
    char name[] = "weft-name-keeper";
    char* argv[] = {name, nullptr};
    pid_t first = -1;
    const int spawned =
        ::posix_spawn(&first, "/proc/self/exe", &actions, &attributes, argv, env.data());
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attributes);
    if (spawned != 0)
    {
        throw_errno(spawned, "weft: starting the shared memory name keeper (/proc/self/exe)");
    }
    // The spawned process writes the cookie, forks the keeper and exits at once: reaped here,
    // so that the keeper is nobody's child (a wait() for "any child" never meets it).
    int status = 0;
    pid_t reaped = -1;
    while ((reaped = ::waitpid(first, &status, 0)) < 0 && errno == EINTR)
    {
    }
    // Another thread may have reaped it (or SIGCHLD is ignored): then wait for the cookie.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (reaped != first && shared->ready.load(std::memory_order_acquire) != cookie &&
           std::chrono::steady_clock::now() < until)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (shared->ready.load(std::memory_order_acquire) != cookie)
    {
        throw std::system_error(ECHILD, std::system_category(),
                                "weft: the shared memory name keeper did not start (is "
                                "/proc/self/exe this program, with weft linked in?)");
    }
    mapping.at = nullptr;
    s.shared = shared;
    s.pipe_write_end = write_end.fd;
    write_end.fd = -1;
}

// What the keeper does: wait until every copy of the owner's pipe end is closed (the owner
// ended, however it ended), then unlink each name still recorded, if it still names the file
// the owner made.
[[noreturn]] void run_keeper(std::uint64_t cookie)
{
    // Anything this process got without O_CLOEXEC from the owner is not ours to hold.
    if (::syscall(SYS_close_range, keeper_table_fd + 1, ~0U, 0) != 0)
    {
        for (int fd = keeper_table_fd + 1; fd < 1024; ++fd)
        {
            ::close(fd);
        }
    }
    if (::chdir("/") != 0)
    {
        ::_exit(1); // keeps no directory busy, or is no keeper
    }
    ::setsid(); // Ctrl-C in the owner's terminal must not end the keeper first
    void* mapped =
        ::mmap(nullptr, table_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, keeper_table_fd, 0);
    if (mapped == MAP_FAILED)
    {
        ::_exit(1);
    }
    auto* shared = static_cast<table*>(mapped);
    shared->ready.store(cookie, std::memory_order_release);
    const pid_t keeper = ::fork();
    if (keeper != 0)
    {
        ::_exit(keeper < 0 ? 1 : 0);
    }
    char byte = 0;
    for (;;)
    {
        const ssize_t n = ::read(keeper_pipe_fd, &byte, 1);
        if (n == 0 || (n < 0 && errno != EINTR))
        {
            break;
        }
    }
    for (const slot& entry : shared->slots)
    {
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
    const char* value = std::getenv(keeper_env);
    if (value == nullptr)
    {
        return;
    }
    char* end = nullptr;
    const unsigned long long cookie = std::strtoull(value, &end, 16);
    if (cookie != 0 && end != value && *end == '\0')
    {
        run_keeper(cookie);
    }
}

} // namespace

void prepare()
{
    keeper_state& s = *state_slot();
    std::lock_guard<std::mutex> held(s.mutex);
    if (s.shared == nullptr)
    {
        start(s);
    }
}

void keep(const std::string& name, dev_t dev, ino_t ino)
{
    if (name.size() >= sizeof(slot::name))
    {
        throw std::length_error("weft: a shared memory name is too long");
    }
    keeper_state& s = *state_slot();
    std::lock_guard<std::mutex> held(s.mutex);
    if (s.shared == nullptr)
    {
        start(s);
    }
    for (slot& entry : s.shared->slots)
    {
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

void forget(const std::string& name, dev_t dev, ino_t ino) noexcept
{
    keeper_state& s = *state_slot();
    std::lock_guard<std::mutex> held(s.mutex);
    if (s.shared == nullptr)
    {
        return;
    }
    for (slot& entry : s.shared->slots)
    {
        if (entry.live.load(std::memory_order_relaxed) != 0 && entry.ino == ino &&
            entry.dev_major == major(dev) && entry.dev_minor == minor(dev) && name == entry.name)
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
