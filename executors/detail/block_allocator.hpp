#pragma once
// An allocator for the one object each submitted call allocates (its future's state with the
// pool's record of it), taken from chunks of memory the kernel backs with huge pages.

#include <cstddef>
#include <memory>
#include <new>

namespace weft::detail
{

/// The largest block block_allocator serves from its chunks; larger objects use operator new.
inline constexpr std::size_t largest_block = 1024;

/// A block of at least `size` bytes (<= largest_block), aligned to 16, from the chunks of
/// blocks of its size. Throws std::bad_alloc when the system has no memory left.
[[nodiscard]] void* allocate_block(std::size_t size);
/// Gives back a block allocate_block returned, from any thread.
void free_block(void* block) noexcept;

/// For std::allocate_shared of an object that a program makes by the hundred thousand in a
/// burst (one per submitted call): blocks of one size come from 2 MiB chunks advised as huge
/// pages, so the first touch of 2 MiB is one page fault instead of 512. A page fault costs
/// 10-30 µs on the VMs weft is measured on, and a burst of 100,000 submits spent a third of
/// its time in them (BENCHMARKS.md "Why the first burst is slow here"). Stateless: every
/// block_allocator draws from the same process-wide chunks.
template <class T>
class block_allocator
{
  public:
    using value_type = T;

    block_allocator() noexcept = default;
    template <class U>
    block_allocator(const block_allocator<U>&) noexcept // NOLINT: rebinding converts implicitly
    {
    }

    [[nodiscard]] T* allocate(std::size_t n)
    {
        if (n == 1 && served_from_chunks)
        {
            return static_cast<T*>(allocate_block(sizeof(T)));
        }
        return std::allocator<T>().allocate(n);
    }

    void deallocate(T* object, std::size_t n) noexcept
    {
        if (n == 1 && served_from_chunks)
        {
            free_block(object);
            return;
        }
        std::allocator<T>().deallocate(object, n);
    }

    template <class U>
    bool operator==(const block_allocator<U>&) const noexcept
    {
        return true;
    }

  private:
    static constexpr bool served_from_chunks = sizeof(T) <= largest_block && alignof(T) <= 16;
};

} // namespace weft::detail
