#pragma once
// One anonymous shared memory segment: a sealed memfd mapped into this process. The kernel frees
// it when the last descriptor and the last mapping in any process are gone, so a crashed process
// leaks nothing and nothing ever appears in /dev/shm.

#include <cstddef>
#include <memory>

#include <sys/types.h>

#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

class shared_segment
{
  public:
    /// A new zero-filled segment of at least `bytes` bytes (rounded up to whole pages), its size
    /// sealed so that no process can shrink it under another's mapping. Throws std::system_error.
    [[nodiscard]] static std::shared_ptr<shared_segment> create(std::size_t bytes);

    /// The segment behind a descriptor received from another process (the call takes the
    /// descriptor). A segment this process maps already is returned as it is, so a value sent
    /// to the same worker many times is mapped once. Throws std::system_error, or
    /// std::runtime_error when the descriptor is not a sealed weft segment.
    [[nodiscard]] static std::shared_ptr<shared_segment> adopt(uring::owned_fd fd);

    shared_segment(const shared_segment&) = delete;
    shared_segment& operator=(const shared_segment&) = delete;
    ~shared_segment();

    [[nodiscard]] std::byte* base() const noexcept { return m_base; }
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    /// The memfd, for sending to another process (SCM_RIGHTS or inheritance).
    [[nodiscard]] int fd() const noexcept { return m_fd.get(); }

    /// How many segments this process maps now (for tests that check nothing leaked).
    [[nodiscard]] static std::size_t live_count() noexcept;

  private:
    shared_segment(uring::owned_fd fd, std::byte* base, std::size_t size, dev_t dev, ino_t ino);

    uring::owned_fd m_fd;
    std::byte* m_base;
    std::size_t m_size;
    dev_t m_dev;
    ino_t m_ino;
};

} // namespace weft::detail
