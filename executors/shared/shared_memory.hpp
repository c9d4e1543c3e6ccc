#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "executors/processes/shippable.hpp"
#include "executors/shared/detail/shared_ref.hpp"
#include "executors/shared/detail/shared_segment.hpp"
#include "runtime/errors.hpp"

namespace weft
{

/// Python's multiprocessing.shared_memory.SharedMemory: bytes shared between processes under a
/// name in /dev/shm, for processes that share no parent (any program may open the name,
/// Python's SharedMemory(name) included).
///
/// Names are opt-in: shared_value and shared_array need none, and leave nothing in /dev/shm.
/// The process that creates a name owns it and removes it exactly once: at unlink(), or when
/// its last handle to the memory goes, or, if it is killed first, through a keeper process that
/// outlives it for that purpose. Processes that open the name, receive the handle or are forked
/// from the owner never remove it. Removing the name does not free the memory: processes that
/// hold it keep it until their last handle goes, as with an unlinked file.
///
/// A handle travels to process targets, pool tasks, queues and pipes like a shared_value: by
/// descriptor, so the receiver maps the same memory even after the name is gone.
///
/// Threading: a handle may be used from any thread; the bytes are not synchronized (use an
/// interprocess lock, or a shared_value/shared_array that carries one).
class shared_memory
{
  public:
    /// A new zero-filled segment of `size` bytes called `name` ("x" or "/x"), owned by this
    /// process. Throws std::system_error with std::errc::file_exists when the name is taken,
    /// std::invalid_argument when it is not one file name.
    [[nodiscard]] static shared_memory create(std::string_view name, std::size_t size)
    {
        auto segment = detail::shared_segment::create_named(name, size);
        segment->publish();
        return shared_memory(std::move(segment), size == 0 ? 1 : size);
    }

    /// The segment called `name`. Throws std::system_error with
    /// std::errc::no_such_file_or_directory when there is none.
    [[nodiscard]] static shared_memory open(std::string_view name)
    {
        auto segment = detail::shared_segment::open_named(name);
        const std::size_t size = segment->size();
        return shared_memory(std::move(segment), size);
    }

    [[nodiscard]] std::byte* data() const noexcept { return m_bytes.get(); }
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] std::span<std::byte> bytes() const noexcept { return {data(), m_size}; }

    /// "/x", as open() takes it.
    [[nodiscard]] const std::string& name() const noexcept { return m_bytes.segment()->name(); }

    /// Whether this process owns the name (made it, and is not a forked child of the maker).
    [[nodiscard]] bool owner() const noexcept { return m_bytes.segment()->owns_name(); }

    /// Removes the name now; a second call does nothing. Throws invalid_state_error in a process
    /// that does not own the name (only the owner removes it, so that it is removed once).
    void unlink()
    {
        if (!owner())
        {
            throw invalid_state_error("weft: shared_memory::unlink: only the process that made "
                                      "the name removes it (this one opened or received it)");
        }
        m_bytes.segment()->unlink_name();
    }

    template <class Archive>
    void save(Archive& archive) const
    {
        archive(m_bytes, static_cast<std::uint64_t>(m_size));
    }
    template <class Archive>
    void load(Archive& archive)
    {
        std::uint64_t size = 0;
        archive(m_bytes, size);
        if (size > m_bytes.segment()->size())
        {
            throw std::runtime_error("weft: a received shared_memory does not fit its segment");
        }
        m_size = static_cast<std::size_t>(size);
    }

    /// For cereal: a handle that refers to nothing until loaded.
    explicit shared_memory(detail::unloaded_t) noexcept {}

  private:
    shared_memory(std::shared_ptr<detail::shared_segment> segment, std::size_t size)
        : m_bytes(std::move(segment), 0), m_size(size)
    {
    }

    detail::shared_ref<std::byte> m_bytes;
    std::size_t m_size = 0;
};

} // namespace weft
