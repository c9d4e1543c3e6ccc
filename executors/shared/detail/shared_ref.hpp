#pragma once
// A typed reference to an object inside a shared segment: what every weft shared handle
// (shared_value, shared_array, the interprocess primitives) holds. Copies share the segment;
// sent to another process it travels as the segment's descriptor and the object's offset.

#include <cereal/cereal.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "executors/shared/detail/attachments.hpp"
#include "executors/shared/detail/shared_segment.hpp"

namespace weft::detail
{

template <class T>
class shared_ref
{
    // What lives in shared memory is used by several processes at once, at different addresses:
    // no pointers, no destructor to run (the memory goes when the last process lets go).
    static_assert(std::is_standard_layout_v<T> && std::is_trivially_destructible_v<T>,
                  "weft: an object in shared memory must be standard-layout and trivially "
                  "destructible");

  public:
    /// Refers to nothing (what a handle is before cereal loads it).
    shared_ref() noexcept = default;

    /// The object at `offset` of `segment`. Throws std::runtime_error when it does not fit.
    shared_ref(std::shared_ptr<shared_segment> segment, std::size_t offset)
        : m_segment(std::move(segment)), m_offset(offset)
    {
        if (m_segment == nullptr || m_offset % alignof(T) != 0 || m_offset > m_segment->size() ||
            m_segment->size() - m_offset < sizeof(T))
        {
            throw std::runtime_error("weft: a shared object does not fit its segment");
        }
        m_object = std::launder(reinterpret_cast<T*>(m_segment->base() + m_offset));
    }

    /// A new segment holding a T made from `args`, followed by `extra` zeroed bytes.
    template <class... Args>
    [[nodiscard]] static shared_ref make(std::size_t extra, Args&&... args)
    {
        auto segment = shared_segment::create(checked_size(extra));
        ::new (static_cast<void*>(segment->base())) T(std::forward<Args>(args)...);
        return shared_ref(std::move(segment), 0);
    }

    [[nodiscard]] T* get() const noexcept { return m_object; }
    [[nodiscard]] T& operator*() const noexcept { return *m_object; }
    [[nodiscard]] T* operator->() const noexcept { return m_object; }
    [[nodiscard]] explicit operator bool() const noexcept { return m_object != nullptr; }

    [[nodiscard]] const std::shared_ptr<shared_segment>& segment() const noexcept
    {
        return m_segment;
    }
    [[nodiscard]] std::size_t offset() const noexcept { return m_offset; }
    /// The bytes of the segment after the object (an array's elements).
    [[nodiscard]] std::size_t bytes_after() const noexcept
    {
        return m_segment->size() - m_offset - sizeof(T);
    }

    /// A new zero-filled segment with room for a T and `extra` bytes after it, where the caller
    /// constructs the parts itself (placement new) before anyone else can see it.
    [[nodiscard]] static shared_ref allocate(std::size_t extra)
    {
        return shared_ref(shared_segment::create(checked_size(extra)), 0);
    }

    /// Another object of the same segment.
    template <class U>
    [[nodiscard]] shared_ref<U> sibling(std::size_t offset) const
    {
        return shared_ref<U>(m_segment, offset);
    }

    template <class Archive>
    void save(Archive& archive) const
    {
        if (m_segment == nullptr)
        {
            throw std::logic_error("weft: sending an empty (moved-from) shared handle");
        }
        const std::uint32_t index = attach_segment(m_segment);
        const auto offset = static_cast<std::uint64_t>(m_offset);
        archive(index, offset);
    }

    template <class Archive>
    void load(Archive& archive)
    {
        std::uint32_t index = 0;
        std::uint64_t offset = 0;
        archive(index, offset);
        *this = shared_ref(attached_segment(index), static_cast<std::size_t>(offset));
    }

  private:
    static std::size_t checked_size(std::size_t extra)
    {
        if (extra > (std::size_t{1} << 46))
        {
            throw std::length_error("weft: a shared segment of more than 64 TiB was asked for");
        }
        return sizeof(T) + extra;
    }

    std::shared_ptr<shared_segment> m_segment;
    std::size_t m_offset = 0;
    T* m_object = nullptr;
};

} // namespace weft::detail
