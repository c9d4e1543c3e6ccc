#pragma once
// What a named shared_value or shared_array puts before its object, so that a process opening
// the name (perhaps another program) can tell that it holds the same kind of thing: what it is,
// its element's size and alignment, and whether it carries its own lock.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "executors/shared/detail/shared_ref.hpp"
#include "executors/shared/detail/shared_segment.hpp"

namespace weft::detail
{

struct named_header
{
    std::uint64_t magic;
    std::uint32_t element_size;
    std::uint32_t element_align;
    std::uint32_t lock_size; // the lock state's size; 0 when there is none
    std::uint32_t lock_kind; // which lock (states of the same size may differ); 0: none
};

inline constexpr std::uint64_t named_value_magic = 0x31766c2d74666577; // "weft-lv1"
inline constexpr std::uint64_t named_array_magic = 0x31726c2d74666577; // "weft-lr1"

// Where the object starts: after the header, on a cache line of its own.
inline constexpr std::size_t named_object_offset = 64;

/// A new named segment (not yet published: see shared_segment::publish) with `header` at its
/// start and room for a Layout and `extra` bytes after it, where the caller builds them.
template <class Layout>
[[nodiscard]] shared_ref<Layout> create_named_layout(std::string_view name, std::size_t extra,
                                                     const named_header& header)
{
    static_assert(alignof(Layout) <= named_object_offset);
    auto segment = shared_segment::create_named(name, named_object_offset + sizeof(Layout) + extra);
    *reinterpret_cast<named_header*>(segment->base()) = header;
    return shared_ref<Layout>(std::move(segment), named_object_offset);
}

/// The Layout of the segment called `name`, after checking that its header is `expected` (what
/// the caller would have written with a lock), or the same without a lock. Throws
/// std::system_error when there is no such name, std::runtime_error when it holds something
/// else.
template <class Layout>
[[nodiscard]] shared_ref<Layout> open_named_layout(std::string_view name,
                                                   const named_header& expected, const char* what)
{
    auto segment = shared_segment::open_named(name);
    const auto* found = reinterpret_cast<const named_header*>(segment->base());
    const bool fits = segment->size() >= named_object_offset + sizeof(Layout);
    const bool same_element = fits && found->magic == expected.magic &&
                              found->element_size == expected.element_size &&
                              found->element_align == expected.element_align;
    const bool same_lock =
        fits &&
        ((found->lock_size == expected.lock_size && found->lock_kind == expected.lock_kind) ||
         (found->lock_size == 0 && found->lock_kind == 0));
    if (!same_element || !same_lock)
    {
        throw std::runtime_error(std::string("weft: ") + what + "::open: " + segment->name() +
                                 " does not hold a " + what +
                                 " of this element type and lock kind");
    }
    return shared_ref<Layout>(std::move(segment), named_object_offset);
}

/// Whether the named object behind `object` was made with a lock of its own.
template <class Layout>
[[nodiscard]] bool named_with_lock(const shared_ref<Layout>& object)
{
    return reinterpret_cast<const named_header*>(object.segment()->base())->lock_size != 0;
}

} // namespace weft::detail
