#pragma once
// The bytes of a submitted call's message, kept in the block allocator's chunks.

#include <bit>
#include <cstddef>
#include <memory>
#include <string>

#include "executors/detail/block_allocator.hpp"

namespace weft::detail
{

/// Smallest block a message takes: a call's head (length, id, code) is about 40 bytes.
inline constexpr std::size_t smallest_message_block = 64;

/// For the std::basic_string of a message: up to largest_block bytes come from the chunks of
/// huge pages (allocate_block), rounded up to a power of two so that messages of every length
/// share five block sizes; larger ones use operator new. A burst of submits then costs no page
/// fault per 4 KiB of messages (each 10-30 µs on the VMs weft is measured on), and a message
/// freed on another thread goes back to the same chunks, not to that thread's malloc cache
/// (BENCHMARKS.md "Messages in the block allocator").
template <class T>
class message_allocator
{
  public:
    using value_type = T;

    message_allocator() noexcept = default;
    template <class U>
    message_allocator(const message_allocator<U>&) noexcept // NOLINT: rebinding converts
    {
    }

    [[nodiscard]] T* allocate(std::size_t n)
    {
        if (from_chunks(n))
        {
            return static_cast<T*>(allocate_block(block_for(n)));
        }
        return std::allocator<T>().allocate(n);
    }

    void deallocate(T* bytes, std::size_t n) noexcept
    {
        if (from_chunks(n))
        {
            free_block(bytes);
            return;
        }
        std::allocator<T>().deallocate(bytes, n);
    }

    template <class U>
    bool operator==(const message_allocator<U>&) const noexcept
    {
        return true;
    }

  private:
    static constexpr bool from_chunks(std::size_t n) noexcept
    {
        return alignof(T) <= 16 && n <= largest_block / sizeof(T);
    }
    static constexpr std::size_t block_for(std::size_t n) noexcept
    {
        return std::bit_ceil(n * sizeof(T) < smallest_message_block ? smallest_message_block
                                                                    : n * sizeof(T));
    }
};

/// A pool task's encoded message (pool_task.hpp), and the chunk messages of a map.
using message_bytes = std::basic_string<char, std::char_traits<char>, message_allocator<char>>;

} // namespace weft::detail
