#pragma once
// One shared memory segment mapped into this process. By default anonymous: a sealed memfd,
// which the kernel frees when the last descriptor and the last mapping in any process are gone,
// so a crashed process leaks nothing and nothing ever appears in /dev/shm.
//
// Opt-in, a segment may have a name in /dev/shm (Python's SharedMemory), for processes that
// share no parent. One process owns the name: the one that made it. It removes the name exactly
// once: at unlink_name() or when its last handle goes; if it dies first, its name keeper does
// (see name_keeper.hpp). Other processes, and children forked from the owner, never remove it.

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

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

    /// A new zero-filled segment of exactly `bytes` bytes (at least one) that will be called
    /// `name` ("x" or "/x"), owned by this process. It stays under a hidden temporary name until
    /// publish(), so that nobody opens it half made. Throws std::invalid_argument for a name
    /// that is not one file name, std::system_error.
    [[nodiscard]] static std::shared_ptr<shared_segment> create_named(std::string_view name,
                                                                      std::size_t bytes);

    /// Gives a segment from create_named its name. Throws std::system_error with
    /// std::errc::file_exists when the name is taken (the segment then keeps no name).
    void publish();

    /// The segment called `name` now. Throws std::system_error (std::errc::no_such_file_or_
    /// directory when there is none), std::invalid_argument for a bad name, std::runtime_error
    /// for an empty file.
    [[nodiscard]] static std::shared_ptr<shared_segment> open_named(std::string_view name);

    /// "/x" for a name "x" or "/x". Throws std::invalid_argument when it is not one file name.
    [[nodiscard]] static std::string normalized_name(std::string_view name);

    shared_segment(const shared_segment&) = delete;
    shared_segment& operator=(const shared_segment&) = delete;
    ~shared_segment();

    [[nodiscard]] std::byte* base() const noexcept { return m_base; }
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    /// The memfd, for sending to another process (SCM_RIGHTS or inheritance).
    [[nodiscard]] int fd() const noexcept { return m_fd.get(); }

    /// The segment's name in /dev/shm ("/x"), empty for an anonymous one.
    [[nodiscard]] const std::string& name() const noexcept { return m_name; }
    /// Whether this process made the segment's name and removes it.
    [[nodiscard]] bool owns_name() const noexcept;
    /// Removes the name now, if this process owns it and it was not removed yet (it then names
    /// this segment still: a name made again by someone else is left alone). Throws
    /// std::system_error when unlink fails for another reason than the name being gone.
    void unlink_name();

    /// How many segments this process maps now (for tests that check nothing leaked).
    [[nodiscard]] static std::size_t live_count() noexcept;

  private:
    shared_segment(uring::owned_fd fd, std::byte* base, std::size_t size, dev_t dev, ino_t ino);

    static std::shared_ptr<shared_segment> map_and_register(uring::owned_fd fd, std::size_t size,
                                                            dev_t dev, ino_t ino, std::string name);

    uring::owned_fd m_fd;
    std::byte* m_base;
    std::size_t m_size;
    dev_t m_dev;
    ino_t m_ino;
    std::string m_name;        // the name it has, or will have once published
    std::string m_hidden_name; // the temporary name until publish()
    pid_t m_owner_pid = 0;     // the process that removes the name; 0: none
    std::atomic<bool> m_name_removed{false};
};

} // namespace weft::detail
