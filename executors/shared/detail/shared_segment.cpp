#include "executors/shared/detail/shared_segment.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <new>
#include <pthread.h>
#include <random>
#include <stdexcept>
#include <unistd.h>
#include <utility>

#include <sys/mman.h>
#include <sys/stat.h>
#include <system_error>

#include "executors/shared/detail/name_keeper.hpp"

namespace weft::detail
{
namespace
{

// The segments this process maps, by inode: a descriptor received again for a segment mapped
// already gives back the same mapping (one mapping per segment per process).
struct registry
{
    std::mutex mutex;
    std::map<std::pair<dev_t, ino_t>, std::weak_ptr<shared_segment>> segments;
};

// Made on first use (a shared_value may be a global, made during static initialisation) and
// never destroyed (segments may outlive static teardown).
registry*& registry_slot()
{
    static registry* r = new registry;
    return r;
}

registry& the_registry()
{
    return *registry_slot();
}

// What a forked child stops using without destroying it (its mutex may be held by a thread
// the child does not have), kept reachable so that a leak checker at the child's exit is quiet.
registry* volatile g_left_behind = nullptr;

// A child forked while another thread held the registry's mutex (or was changing its map)
// would hang or trip on it: the child starts from an empty registry instead (the old one is
// left as it is; it only loses the sharing of mappings received before the fork).
void fresh_registry_in_child() noexcept
{
    registry* const fresh = new (std::nothrow) registry;
    if (fresh != nullptr)
    {
        g_left_behind = registry_slot();
        registry_slot() = fresh;
    }
}

const int g_atfork_registered = ::pthread_atfork(nullptr, nullptr, &fresh_registry_in_child);

std::atomic<std::size_t> g_live{0};

[[noreturn]] void throw_errno(const char* what)
{
    throw std::system_error(errno, std::system_category(), what);
}

// Where POSIX shared memory names live on Linux (what shm_open opens).
std::string shm_path(const std::string& name)
{
    return "/dev/shm" + name;
}

bool same_file(const std::string& path, dev_t dev, ino_t ino)
{
    struct stat st
    {
    };
    return ::lstat(path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

std::string hidden_name()
{
    static std::atomic<std::uint64_t> counter{0};
    thread_local std::mt19937_64 random{std::random_device{}()};
    char text[80];
    std::snprintf(text, sizeof(text), "/weft-unpublished-%d-%llu-%llx",
                  static_cast<int>(::getpid()),
                  static_cast<unsigned long long>(counter.fetch_add(1)),
                  static_cast<unsigned long long>(random()));
    return text;
}

std::byte* map_segment(int fd, std::size_t size)
{
    void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
    {
        throw_errno("weft: mmap of a shared segment");
    }
    return static_cast<std::byte*>(base);
}

} // namespace

shared_segment::shared_segment(uring::owned_fd fd, std::byte* base, std::size_t size, dev_t dev,
                               ino_t ino)
    : m_fd(std::move(fd)), m_base(base), m_size(size), m_dev(dev), m_ino(ino)
{
    g_live.fetch_add(1, std::memory_order_relaxed);
}

shared_segment::~shared_segment()
{
    try
    {
        unlink_name();
    }
    catch (const std::system_error&)
    {
        // A name this process cannot remove (its directory changed under it) stays; the memory
        // still goes with the last mapping.
    }
    ::munmap(m_base, m_size);
    g_live.fetch_sub(1, std::memory_order_relaxed);
    registry& r = the_registry();
    std::lock_guard<std::mutex> held(r.mutex);
    auto found = r.segments.find({m_dev, m_ino});
    // A later adopt may have replaced the entry with a fresh mapping: keep that one.
    if (found != r.segments.end() && found->second.expired())
    {
        r.segments.erase(found);
    }
}

std::shared_ptr<shared_segment> shared_segment::create(std::size_t bytes)
{
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t size = bytes == 0 ? page : (bytes + page - 1) / page * page;
    uring::owned_fd fd(::memfd_create("weft-shared", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd.valid())
    {
        throw_errno("weft: memfd_create");
    }
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
    {
        throw_errno("weft: ftruncate of a shared segment");
    }
    // Sealed: a receiver maps exactly this size, and nobody can shrink it under a mapping
    // (which would turn the next access into SIGBUS).
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    {
        throw_errno("weft: sealing a shared segment");
    }
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) != 0)
    {
        throw_errno("weft: fstat of a shared segment");
    }
    std::byte* base = map_segment(fd.get(), size);
    std::shared_ptr<shared_segment> segment(
        new shared_segment(std::move(fd), base, size, st.st_dev, st.st_ino));
    registry& r = the_registry();
    std::lock_guard<std::mutex> held(r.mutex);
    r.segments[{st.st_dev, st.st_ino}] = segment;
    return segment;
}

// The name in /dev/shm of a received descriptor ("/x"), or empty when it is not one: a named
// segment cannot be sealed (only memfds can), so its name is what vouches for it.
std::string name_behind(int fd)
{
    char link[64];
    std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    char target[PATH_MAX];
    const ssize_t n = ::readlink(link, target, sizeof(target) - 1);
    if (n <= 0)
    {
        return {};
    }
    std::string path(target, static_cast<std::size_t>(n));
    constexpr std::string_view prefix = "/dev/shm/";
    constexpr std::string_view deleted = " (deleted)";
    if (path.compare(0, prefix.size(), prefix) != 0)
    {
        return {};
    }
    if (path.size() > deleted.size() &&
        path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0)
    {
        path.resize(path.size() - deleted.size());
    }
    return path.substr(prefix.size() - 1);
}

std::shared_ptr<shared_segment> shared_segment::adopt(uring::owned_fd fd)
{
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) != 0)
    {
        throw_errno("weft: fstat of a received shared segment");
    }
    registry& r = the_registry();
    {
        std::lock_guard<std::mutex> held(r.mutex);
        auto found = r.segments.find({st.st_dev, st.st_ino});
        if (found != r.segments.end())
        {
            if (auto existing = found->second.lock())
            {
                return existing; // `fd` closes: the mapping we have is the same memory
            }
        }
    }
    const int seals = ::fcntl(fd.get(), F_GET_SEALS);
    const bool sealed =
        seals >= 0 && (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) == (F_SEAL_SHRINK | F_SEAL_GROW);
    std::string name = sealed ? std::string{} : name_behind(fd.get());
    if ((!sealed && name.empty()) || st.st_size <= 0)
    {
        throw std::runtime_error(
            "weft: a received descriptor is neither a sealed shared segment nor a named one");
    }
    return map_and_register(std::move(fd), static_cast<std::size_t>(st.st_size), st.st_dev,
                            st.st_ino, std::move(name));
}

std::shared_ptr<shared_segment> shared_segment::map_and_register(uring::owned_fd fd,
                                                                 std::size_t size, dev_t dev,
                                                                 ino_t ino, std::string name)
{
    registry& r = the_registry();
    std::lock_guard<std::mutex> held(r.mutex);
    auto& entry = r.segments[{dev, ino}];
    if (auto existing = entry.lock())
    {
        return existing; // another thread mapped it meanwhile
    }
    std::byte* base = map_segment(fd.get(), size);
    std::shared_ptr<shared_segment> segment(
        new shared_segment(std::move(fd), base, size, dev, ino));
    segment->m_name = std::move(name);
    entry = segment;
    return segment;
}

std::string shared_segment::normalized_name(std::string_view name)
{
    std::string_view file = name.substr(name.starts_with('/') ? 1 : 0);
    if (file.empty() || file == "." || file == ".." || file.size() > NAME_MAX ||
        file.find('/') != std::string_view::npos || file.find('\0') != std::string_view::npos)
    {
        throw std::invalid_argument("weft: a shared memory name is one file name (\"x\" or "
                                    "\"/x\", at most 255 bytes, no other '/'), not \"" +
                                    std::string(name) + "\"");
    }
    return "/" + std::string(file);
}

std::shared_ptr<shared_segment> shared_segment::create_named(std::string_view name,
                                                             std::size_t bytes)
{
    std::string final_name = normalized_name(name);
    name_keeper::prepare(); // before the file exists: no kill can fall between the two
    std::string hidden = hidden_name();
    uring::owned_fd fd(
        ::open(shm_path(hidden).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid())
    {
        throw_errno("weft: creating a named shared segment in /dev/shm");
    }
    struct stat st
    {
    };
    // posix_fallocate, not ftruncate alone: tmpfs reserves nothing for a sparse file, and a
    // full /dev/shm would turn the first touch of a page into SIGBUS instead of this error.
    int failed = ::fstat(fd.get(), &st) != 0 ? errno : 0;
    if (failed == 0)
    {
        failed = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(bytes == 0 ? 1 : bytes));
    }
    if (failed != 0)
    {
        const int error = failed;
        ::unlink(shm_path(hidden).c_str());
        throw std::system_error(error, std::system_category(),
                                "weft: sizing a named shared segment");
    }
    // Kept before anything can fail or be killed in between: whichever name the file has when
    // this process ends, the keeper removes it (and only if it is still this file).
    try
    {
        name_keeper::keep(hidden, st.st_dev, st.st_ino);
        name_keeper::keep(final_name, st.st_dev, st.st_ino);
    }
    catch (...)
    {
        ::unlink(shm_path(hidden).c_str());
        name_keeper::forget(hidden, st.st_dev, st.st_ino);
        throw;
    }
    std::shared_ptr<shared_segment> segment;
    try
    {
        segment = map_and_register(std::move(fd), bytes == 0 ? 1 : bytes, st.st_dev, st.st_ino,
                                   final_name);
    }
    catch (...)
    {
        ::unlink(shm_path(hidden).c_str());
        name_keeper::forget(hidden, st.st_dev, st.st_ino);
        name_keeper::forget(final_name, st.st_dev, st.st_ino);
        throw;
    }
    segment->m_hidden_name = std::move(hidden);
    segment->m_owner_pid = ::getpid();
    return segment;
}

void shared_segment::publish()
{
    if (m_hidden_name.empty())
    {
        throw std::logic_error("weft: publishing a segment that is not waiting for its name");
    }
    if (::renameat2(AT_FDCWD, shm_path(m_hidden_name).c_str(), AT_FDCWD, shm_path(m_name).c_str(),
                    RENAME_NOREPLACE) != 0)
    {
        const int error = errno;
        // The segment keeps only its hidden name, removed with it.
        name_keeper::forget(m_name, m_dev, m_ino);
        m_name = m_hidden_name;
        m_hidden_name.clear();
        throw std::system_error(error, std::system_category(),
                                error == EEXIST
                                    ? "weft: a shared memory segment of that name exists"
                                    : "weft: naming a shared segment in /dev/shm");
    }
    name_keeper::forget(m_hidden_name, m_dev, m_ino);
    m_hidden_name.clear();
}

std::shared_ptr<shared_segment> shared_segment::open_named(std::string_view name)
{
    const std::string normalized = normalized_name(name);
    uring::owned_fd fd(::open(shm_path(normalized).c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid())
    {
        throw std::system_error(errno, std::system_category(),
                                "weft: opening the shared memory segment " + normalized);
    }
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) != 0)
    {
        throw_errno("weft: fstat of a named shared segment");
    }
    if (st.st_size <= 0)
    {
        throw std::runtime_error("weft: the shared memory segment " + normalized + " is empty");
    }
    return map_and_register(std::move(fd), static_cast<std::size_t>(st.st_size), st.st_dev,
                            st.st_ino, normalized);
}

bool shared_segment::owns_name() const noexcept
{
    return m_owner_pid != 0 && m_owner_pid == ::getpid();
}

void shared_segment::unlink_name()
{
    if (!owns_name() || m_name_removed.exchange(true))
    {
        return;
    }
    const std::string& current = m_hidden_name.empty() ? m_name : m_hidden_name;
    const std::string path = shm_path(current);
    // Removed first, forgotten after: a kill in between leaves the keeper a name that is gone
    // (it checks), never a name nobody removes.
    if (same_file(path, m_dev, m_ino) && ::unlink(path.c_str()) != 0 && errno != ENOENT)
    {
        const int error = errno;
        m_name_removed.store(false); // kept: a later call, or the keeper, tries again
        throw std::system_error(error, std::system_category(),
                                "weft: removing the name of a shared segment");
    }
    name_keeper::forget(m_name, m_dev, m_ino);
    if (!m_hidden_name.empty())
    {
        name_keeper::forget(m_hidden_name, m_dev, m_ino);
    }
}

std::size_t shared_segment::live_count() noexcept
{
    return g_live.load(std::memory_order_relaxed);
}

} // namespace weft::detail
