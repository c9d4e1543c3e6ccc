#include "executors/detail/block_allocator.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <pthread.h>
#include <utility>

#include <sys/mman.h>

#include "executors/detail/spinning_mutex.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define WEFT_POISON(address, size) ASAN_POISON_MEMORY_REGION(address, size)
#define WEFT_UNPOISON(address, size) ASAN_UNPOISON_MEMORY_REGION(address, size)
#else
#define WEFT_POISON(address, size) ((void)(address), (void)(size))
#define WEFT_UNPOISON(address, size) ((void)(address), (void)(size))
#endif

namespace weft::detail
{
namespace
{

constexpr std::size_t chunk_size = std::size_t{2} << 20; // one x86-64 huge page
constexpr std::size_t block_alignment = 16;
constexpr std::size_t size_classes = largest_block / block_alignment;
// Empty chunks each size keeps for the next burst. The one emptied last is kept as it is: a
// program that submits one call at a time empties and refills a chunk per call, and a system
// call each time would cost more than the call. The others are given back to the kernel lazily
// (MADV_FREE): it takes their pages only when it needs memory, and a burst that reuses them
// before that finds them mapped, where a fresh mapping of 2 MiB costs a page fault and the
// zeroing of a huge page (17-25% of the submitting thread's samples in runs of ten bursts of
// 100,000 calls; BENCHMARKS.md "Empty chunks given back lazily"). 64 is 128 MiB a size, above
// what such a burst holds at once.
constexpr std::size_t spares_kept = 64;

class block_pool;

// The head of every chunk: its blocks follow, all of one size. A freed block holds the link
// to the next free one.
struct alignas(64) chunk
{
    block_pool* owner = nullptr;
    chunk* previous = nullptr; // in its pool's list of chunks with a block to give
    chunk* next = nullptr;
    void* free_blocks = nullptr;
    std::size_t carved = 0; // blocks handed out at least once, from the front
    std::size_t live = 0;   // blocks handed out and not yet freed
    bool listed = false;    // in the list of chunks with a block to give

    std::byte* block(std::size_t index, std::size_t size) noexcept
    {
        return reinterpret_cast<std::byte*>(this + 1) + index * size;
    }
};

chunk* chunk_of(void* block) noexcept
{
    return reinterpret_cast<chunk*>(reinterpret_cast<std::uintptr_t>(block) & ~(chunk_size - 1));
}

// A chunk_size-aligned chunk_size of fresh memory: mapped twice as large, then trimmed to the
// aligned middle, since mmap aligns only to a small page.
chunk* map_chunk()
{
    void* mapped =
        ::mmap(nullptr, 2 * chunk_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED)
    {
        throw std::bad_alloc();
    }
    const auto start = reinterpret_cast<std::uintptr_t>(mapped);
    const std::uintptr_t aligned = (start + chunk_size - 1) & ~(chunk_size - 1);
    if (aligned != start)
    {
        ::munmap(mapped, aligned - start);
    }
    const std::uintptr_t end = start + 2 * chunk_size;
    if (end != aligned + chunk_size)
    {
        ::munmap(reinterpret_cast<void*>(aligned + chunk_size), end - aligned - chunk_size);
    }
    void* memory = reinterpret_cast<void*>(aligned);
    // Where transparent huge pages are off, this fails and the chunk is 512 small pages: as
    // malloc's memory would be.
    (void)::madvise(memory, chunk_size, MADV_HUGEPAGE);
    return new (memory) chunk;
}

// The blocks of one size. Its lock is taken for a few pointer moves per block: a submitting
// thread allocates while the caller's or the collector's thread frees.
class block_pool
{
  public:
    explicit block_pool(std::size_t size) noexcept
        : m_size(size), m_blocks_per_chunk((chunk_size - sizeof(chunk)) / size)
    {
    }

    void* allocate()
    {
        std::lock_guard lock(m_mutex);
        chunk* from = m_giving;
        if (from == nullptr)
        {
            from = m_hot_spare != nullptr || m_spare_count != 0 ? take_spare() : new_chunk();
            list(from);
        }
        void* block = nullptr;
        if (from->free_blocks != nullptr)
        {
            block = from->free_blocks;
            WEFT_UNPOISON(block, m_size);
            from->free_blocks = *static_cast<void**>(block);
        }
        else
        {
            block = from->block(from->carved++, m_size);
            WEFT_UNPOISON(block, m_size);
        }
        if (++from->live == m_blocks_per_chunk)
        {
            unlist(from); // full
        }
        return block;
    }

    void free(chunk* from, void* block) noexcept
    {
        std::lock_guard lock(m_mutex);
        *static_cast<void**>(block) = from->free_blocks;
        from->free_blocks = block;
        WEFT_POISON(block, m_size);
        if (--from->live == 0)
        {
            // Every block is back: the chunk waits among the spares, or goes back to the system
            // when they are full, so that memory does not stay at a burst's peak.
            if (from->listed)
            {
                unlist(from);
            }
            // Its blocks stay poisoned while it waits: a dangling pointer into it is caught.
            from->~chunk();
            if (m_hot_spare != nullptr)
            {
                set_aside(m_hot_spare);
            }
            m_hot_spare = from;
        }
        else if (!from->listed)
        {
            list(from);
        }
    }

    // Around fork(): the child gets the pool as the parent's threads left it, so no thread may
    // be halfway through a change then.
    void lock() noexcept { m_mutex.lock(); }
    void unlock() noexcept { m_mutex.unlock(); }

    // In the child of a fork(): the spares set aside were not copied into it (MADV_DONTFORK).
    void forget_set_aside() noexcept
    {
        for (std::size_t i = 0; i < m_spare_count; ++i)
        {
            WEFT_UNPOISON(m_spares[i], chunk_size); // not ours: others may map those addresses
        }
        m_spare_count = 0;
    }

  private:
    chunk* new_chunk()
    {
        chunk* made = map_chunk();
        made->owner = this;
        WEFT_POISON(made->block(0, m_size), m_blocks_per_chunk * m_size);
        return made;
    }

    // Its blocks are still poisoned from when they were freed (or never carved).
    chunk* take_spare() noexcept
    {
        void* spare = m_hot_spare;
        if (spare != nullptr)
        {
            m_hot_spare = nullptr;
        }
        else
        {
            spare = m_spares[--m_spare_count];
            (void)::madvise(spare, chunk_size, MADV_DOFORK);
        }
        chunk* made = new (spare) chunk;
        made->owner = this;
        return made;
    }

    // A spare that is no longer the one emptied last: kept, given back lazily, while there is
    // room among the spares; otherwise unmapped. One set aside is not copied into a child of
    // fork(): there it would count as the child's resident memory (a forked pool worker's
    // max_memory_per_child reads that) until the kernel took it.
    void set_aside(void* spare) noexcept
    {
        if (m_spare_count < m_spares.size() && ::madvise(spare, chunk_size, MADV_FREE) == 0 &&
            ::madvise(spare, chunk_size, MADV_DONTFORK) == 0)
        {
            // Its header, too, may read as zeros after MADV_FREE: the spare is remembered here
            // and made a chunk again when it is taken.
            m_spares[m_spare_count++] = spare;
        }
        else
        {
            WEFT_UNPOISON(spare, chunk_size); // its addresses may be mapped again for others
            ::munmap(spare, chunk_size);
        }
    }

    void list(chunk* c) noexcept
    {
        c->previous = nullptr;
        c->next = m_giving;
        if (m_giving != nullptr)
        {
            m_giving->previous = c;
        }
        m_giving = c;
        c->listed = true;
    }

    void unlist(chunk* c) noexcept
    {
        if (c->previous != nullptr)
        {
            c->previous->next = c->next;
        }
        else
        {
            m_giving = c->next;
        }
        if (c->next != nullptr)
        {
            c->next->previous = c->previous;
        }
        c->previous = c->next = nullptr;
        c->listed = false;
    }

    const std::size_t m_size;
    const std::size_t m_blocks_per_chunk;
    spinning_mutex m_mutex;
    chunk* m_giving = nullptr;                     // chunks with a free or never carved block
    void* m_hot_spare = nullptr;                   // the chunk emptied last, as it was
    std::array<void*, spares_kept - 1> m_spares{}; // the others kept, given back lazily
    std::size_t m_spare_count = 0;
};

// The pools by size class, made on first use and never destroyed: a future may free its
// block during static destruction.
class pool_registry
{
  public:
    static pool_registry& get()
    {
        static pool_registry* registry = new pool_registry;
        return *registry;
    }

    block_pool& of_size(std::size_t size)
    {
        const std::size_t index = (size + block_alignment - 1) / block_alignment - 1;
        if (block_pool* pool = m_pools[index].load(std::memory_order_acquire))
        {
            return *pool;
        }
        std::lock_guard lock(m_mutex);
        block_pool* pool = m_pools[index].load(std::memory_order_relaxed);
        if (pool == nullptr)
        {
            pool = new block_pool((index + 1) * block_alignment);
            m_pools[index].store(pool, std::memory_order_release);
        }
        return *pool;
    }

  private:
    pool_registry() { (void)::pthread_atfork(&before_fork, &after_fork, &after_fork_in_child); }

    static void before_fork() noexcept
    {
        pool_registry& registry = get();
        registry.m_mutex.lock();
        for (auto& pool : registry.m_pools)
        {
            if (block_pool* p = pool.load(std::memory_order_relaxed))
            {
                p->lock();
            }
        }
    }

    static void after_fork_in_child() noexcept
    {
        for (auto& pool : get().m_pools)
        {
            if (block_pool* p = pool.load(std::memory_order_relaxed))
            {
                p->forget_set_aside();
            }
        }
        after_fork();
    }

    static void after_fork() noexcept
    {
        pool_registry& registry = get();
        for (auto& pool : registry.m_pools)
        {
            if (block_pool* p = pool.load(std::memory_order_relaxed))
            {
                p->unlock();
            }
        }
        registry.m_mutex.unlock();
    }

    std::mutex m_mutex; // makes pools
    std::array<std::atomic<block_pool*>, size_classes> m_pools{};
};

} // namespace

void* allocate_block(std::size_t size)
{
    return pool_registry::get().of_size(size).allocate();
}

void free_block(void* block) noexcept
{
    chunk* from = chunk_of(block);
    from->owner->free(from, block);
}

} // namespace weft::detail
