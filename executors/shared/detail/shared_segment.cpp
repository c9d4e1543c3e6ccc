#include "executors/shared/detail/shared_segment.hpp"

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <new>
#include <pthread.h>
#include <stdexcept>
#include <unistd.h>
#include <utility>

#include <sys/mman.h>
#include <sys/stat.h>
#include <system_error>

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

// A child forked while another thread held the registry's mutex (or was changing its map)
// would hang or trip on it: the child starts from an empty registry instead (the old one is
// left as it is; it only loses the sharing of mappings received before the fork).
void fresh_registry_in_child() noexcept
{
    registry_slot() = new (std::nothrow) registry;
}

const int g_atfork_registered = ::pthread_atfork(nullptr, nullptr, &fresh_registry_in_child);

std::atomic<std::size_t> g_live{0};

[[noreturn]] void throw_errno(const char* what)
{
    throw std::system_error(errno, std::system_category(), what);
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

std::shared_ptr<shared_segment> shared_segment::adopt(uring::owned_fd fd)
{
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) != 0)
    {
        throw_errno("weft: fstat of a received shared segment");
    }
    const int seals = ::fcntl(fd.get(), F_GET_SEALS);
    if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW) ||
        st.st_size <= 0)
    {
        throw std::runtime_error("weft: a received descriptor is not a sealed shared segment");
    }
    registry& r = the_registry();
    std::lock_guard<std::mutex> held(r.mutex);
    auto& entry = r.segments[{st.st_dev, st.st_ino}];
    if (auto existing = entry.lock())
    {
        return existing; // `fd` closes: the mapping we have is the same memory
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    std::byte* base = map_segment(fd.get(), size);
    std::shared_ptr<shared_segment> segment(
        new shared_segment(std::move(fd), base, size, st.st_dev, st.st_ino));
    entry = segment;
    return segment;
}

std::size_t shared_segment::live_count() noexcept
{
    return g_live.load(std::memory_order_relaxed);
}

} // namespace weft::detail
