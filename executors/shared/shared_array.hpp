#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <new>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "executors/interprocess/rlock.hpp"
#include "executors/processes/shippable.hpp"
#include "executors/shared/detail/lock_slot.hpp"
#include "executors/shared/detail/named_layout.hpp"
#include "executors/shared/detail/shared_ref.hpp"
#include "executors/shared/shared_options.hpp"
#include "runtime/errors.hpp"

namespace weft
{

/// Python's multiprocessing.Array (and RawArray): a fixed number of T in memory shared between
/// processes. Travels and lives like shared_value (see there): by descriptor, to process
/// targets, pool tasks and initializers under every start method; freed with its last handle.
///
/// Locking: get(i), set(i, x), to_vector() and assign() take the array's lock (its own
/// interprocess::rlock by default, none with {.lock = false}, or an external Lock). operator[],
/// span(), begin() and end() do not: hold get_lock() around them where atomicity matters.
/// Indexing out of range throws std::out_of_range from get/set/at, as Python's IndexError.
/// Braces make a list: `shared_array<int> a{10}` holds one element, 10; Python's
/// Array('i', 10) is `shared_array<int> a(10)` (ten zeros).
template <class T, class Lock = interprocess::rlock>
class shared_array
{
    static_assert(bytewise_shippable<T>,
                  "weft::shared_array: T must be trivially copyable and hold no pointers (its "
                  "bytes are shared between processes as they are)");

    struct header
    {
        std::uint64_t size;
        typename Lock::state_type lock; // initialised only when the array has its own lock
    };
    static constexpr std::size_t elements_at =
        (sizeof(header) + alignof(T) - 1) / alignof(T) * alignof(T);

    // A range to copy from: not another shared_array (a copy of a handle is the same array).
    template <class R>
    static constexpr bool copyable_range =
        !std::same_as<std::remove_cvref_t<R>, shared_array> &&
        std::convertible_to<std::ranges::range_reference_t<R>, T>;

  public:
    /// `size` zero-initialised elements (Python's Array(type, size)).
    /// With opts.name, also called that name in /dev/shm (see shared_options::name); throws
    /// std::system_error (file_exists) when the name is taken. So for every constructor.
    explicit shared_array(std::size_t size, const shared_options& opts = {})
        : shared_array(size, opts, 0)
    {
        for (std::size_t i = 0; i < size; ++i)
        {
            ::new (static_cast<void*>(data() + i)) T{};
        }
        publish_if_named();
    }

    /// A copy of `values` (Python's Array(type, sequence)).
    template <std::ranges::input_range R>
    requires copyable_range<R>
    explicit shared_array(R&& values, const shared_options& opts = {})
        : shared_array(copy_of{},
                       std::vector<T>(std::ranges::begin(values), std::ranges::end(values)), opts)
    {
    }
    shared_array(std::initializer_list<T> values, const shared_options& opts = {})
        : shared_array(copy_of{}, std::vector<T>(values), opts)
    {
    }
    explicit shared_array(const std::vector<T>& values, const shared_options& opts = {})
        : shared_array(copy_of{}, values, opts)
    {
    }

    /// `size` zero-initialised elements guarded by `external`.
    shared_array(std::size_t size, Lock external)
        : shared_array(size, shared_options{.lock = false}, 0)
    {
        for (std::size_t i = 0; i < size; ++i)
        {
            ::new (static_cast<void*>(data() + i)) T{};
        }
        m_lock = detail::lock_slot<Lock>(std::move(external));
    }

    /// The array called `name` in /dev/shm, made by a shared_array<T, Lock> with
    /// shared_options::name in this or another process; with its lock if it was made with one.
    /// Throws std::system_error (no_such_file_or_directory) when there is none,
    /// std::runtime_error when it holds something else (another T or Lock).
    [[nodiscard]] static shared_array open(std::string_view name)
    {
        shared_array a(detail::unloaded);
        a.m_header = detail::open_named_layout<header>(name, describe(true), "shared_array");
        a.m_size = a.checked_count();
        if (detail::named_with_lock(a.m_header))
        {
            a.adopt_own_lock();
        }
        return a;
    }

    /// The name in /dev/shm ("/x"), empty for an anonymous array.
    [[nodiscard]] const std::string& name() const noexcept { return m_header.segment()->name(); }

    [[nodiscard]] std::size_t size() const noexcept { return m_size; }

    /// Element i under the lock. Throws std::out_of_range.
    [[nodiscard]] T get(std::size_t i) const
    {
        check(i);
        return m_lock.guarded([&] { return data()[i]; });
    }

    /// Sets element i under the lock. Throws std::out_of_range.
    void set(std::size_t i, const T& value)
    {
        check(i);
        m_lock.guarded([&] { data()[i] = value; });
    }

    /// A copy of every element, taken under the lock (Python's arr[:]).
    [[nodiscard]] std::vector<T> to_vector() const
    {
        return m_lock.guarded([&] { return std::vector<T>(data(), data() + m_size); });
    }

    /// Element i without locking. at() checks the index, operator[] does not.
    [[nodiscard]] T& operator[](std::size_t i) const noexcept { return data()[i]; }
    [[nodiscard]] T& at(std::size_t i) const
    {
        check(i);
        return data()[i];
    }
    /// The elements without locking (Python's RawArray as a buffer).
    [[nodiscard]] std::span<T> span() const noexcept { return {data(), m_size}; }
    [[nodiscard]] T* begin() const noexcept { return data(); }
    [[nodiscard]] T* end() const noexcept { return data() + m_size; }

    /// The lock (Python's get_lock()). Throws invalid_state_error for an array made without one.
    [[nodiscard]] Lock& get_lock() const
    {
        return m_lock.get("weft: shared_array: an array made with {.lock = false} has no lock");
    }
    [[nodiscard]] bool synchronized() const noexcept { return m_lock.present(); }

    template <class Archive>
    void save(Archive& archive) const
    {
        archive(m_header, m_lock);
    }

    template <class Archive>
    void load(Archive& archive)
    {
        archive(m_header, m_lock);
        m_size = checked_count();
    }

    /// For cereal: a handle that refers to nothing until loaded.
    explicit shared_array(detail::unloaded_t) noexcept {}

  private:
    struct copy_of
    {
    };
    shared_array(copy_of /*tag*/, const std::vector<T>& values, const shared_options& opts)
        : shared_array(values.size(), opts, 0)
    {
        std::uninitialized_copy(values.begin(), values.end(), data());
        publish_if_named();
    }

    shared_array(std::size_t size, const shared_options& opts, int /*tag: raw storage*/)
        : m_header(opts.name.empty()
                       ? detail::shared_ref<header>::allocate(elements_at - sizeof(header) +
                                                              checked_bytes(size))
                       : detail::create_named_layout<header>(
                             opts.name, elements_at - sizeof(header) + checked_bytes(size),
                             describe(opts.lock))),
          m_size(size)
    {
        m_header->size = size;
        if (opts.lock)
        {
            Lock::init_state(&m_header->lock);
            adopt_own_lock();
        }
    }

    // A named array becomes visible under its name only once its elements are made.
    void publish_if_named()
    {
        if (!m_header.segment()->name().empty())
        {
            m_header.segment()->publish();
        }
    }

    static detail::named_header describe(bool with_lock)
    {
        return {detail::named_array_magic, sizeof(T), alignof(T),
                with_lock ? static_cast<std::uint32_t>(sizeof(typename Lock::state_type)) : 0,
                with_lock ? detail::lock_kind<Lock>() : 0};
    }

    void adopt_own_lock()
    {
        m_lock = detail::lock_slot<Lock>(Lock(m_header.template sibling<typename Lock::state_type>(
            m_header.offset() + offsetof(header, lock))));
    }

    // The element count recorded in the memory (by another process, perhaps), which must fit.
    [[nodiscard]] std::size_t checked_count() const
    {
        const std::uint64_t size = m_header->size;
        if (size > (m_header.bytes_after() + sizeof(header) - elements_at) / sizeof(T))
        {
            throw std::runtime_error("weft: shared_array: an array does not fit its memory");
        }
        return static_cast<std::size_t>(size);
    }

    static std::size_t checked_bytes(std::size_t size)
    {
        if (size > (std::size_t{1} << 40) / sizeof(T))
        {
            throw std::length_error("weft: shared_array: too many elements");
        }
        return size * sizeof(T);
    }

    void check(std::size_t i) const
    {
        if (i >= m_size)
        {
            throw std::out_of_range("weft: shared_array: index out of range");
        }
    }

    [[nodiscard]] T* data() const noexcept
    {
        return std::launder(
            reinterpret_cast<T*>(m_header.segment()->base() + m_header.offset() + elements_at));
    }

    detail::shared_ref<header> m_header;
    std::size_t m_size = 0;
    detail::lock_slot<Lock> m_lock;
};

} // namespace weft
