#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "executors/interprocess/rlock.hpp"
#include "executors/processes/shippable.hpp"
#include "executors/shared/detail/lock_slot.hpp"
#include "executors/shared/detail/named_layout.hpp"
#include "executors/shared/detail/shared_ref.hpp"
#include "executors/shared/shared_options.hpp"
#include "runtime/errors.hpp"

namespace weft
{

/// Python's multiprocessing.Value (and RawValue): one T in memory shared between processes.
///
/// Made in one process, it reaches others by inheritance (a forked child) or as an argument of
/// a process target, a pool task or a pool initializer, under every start method: it travels as
/// a descriptor of its memory, never as a copy, so every process sees one value. (Python can
/// only pass a Value by inheritance.) Copies of the handle in one process share it too; the
/// memory is freed when the last handle in the last process is gone, also when processes
/// crash, and nothing appears in /dev/shm.
///
/// Locking: by default the value has its own interprocess::rlock (Python's lock=True), taken by
/// get() and set() and returned by get_lock() for read-modify-write sequences:
///     { auto held = v.get_lock().guard(); v.raw() += 1; }
/// With {.lock = false} there is none (RawValue); with an external Lock (an interprocess::lock
/// or rlock shared with other objects) that one is used. T must be trivially copyable (its
/// bytes are shared as they are): no pointers, no std::string.
///
/// Threading: any thread of any process; the lock is what makes compound updates atomic.
template <class T, class Lock = interprocess::rlock>
class shared_value
{
    static_assert(bytewise_shippable<T>,
                  "weft::shared_value: T must be trivially copyable and hold no pointers (its "
                  "bytes are shared between processes as they are)");

    struct layout
    {
        typename Lock::state_type lock; // initialised only when the value has its own lock
        T value;
    };

  public:
    /// A new value, with its own lock unless opts.lock is false. Throws std::system_error when
    /// shared memory cannot be made.
    /// With opts.name, also called that name in /dev/shm (see shared_options::name); throws
    /// std::system_error (file_exists) when the name is taken.
    explicit shared_value(T initial = T{}, const shared_options& opts = {})
        : m_layout(opts.name.empty()
                       ? detail::shared_ref<layout>::allocate(0)
                       : detail::create_named_layout<layout>(opts.name, 0, describe(opts.lock)))
    {
        ::new (static_cast<void*>(&m_layout->value)) T(initial);
        if (opts.lock)
        {
            Lock::init_state(&m_layout->lock);
            adopt_own_lock();
        }
        if (!opts.name.empty())
        {
            m_layout.segment()->publish(); // only now, made whole, can others open it
        }
    }

    /// The value called `name` in /dev/shm, made by a shared_value<T, Lock> with
    /// shared_options::name in this or another process; with its lock if it was made with one.
    /// Throws std::system_error (no_such_file_or_directory) when there is none,
    /// std::runtime_error when it holds something else (another T or Lock).
    [[nodiscard]] static shared_value open(std::string_view name)
    {
        shared_value v(detail::unloaded);
        v.m_layout = detail::open_named_layout<layout>(name, describe(true), "shared_value");
        if (detail::named_with_lock(v.m_layout))
        {
            v.adopt_own_lock();
        }
        return v;
    }

    /// The name in /dev/shm ("/x"), empty for an anonymous value.
    [[nodiscard]] const std::string& name() const noexcept { return m_layout.segment()->name(); }

    /// A new value guarded by `external` (shared with whatever else uses it).
    shared_value(T initial, Lock external) : m_layout(detail::shared_ref<layout>::allocate(0))
    {
        ::new (static_cast<void*>(&m_layout->value)) T(initial);
        m_lock = detail::lock_slot<Lock>(std::move(external));
    }

    /// Reads the value (under the lock, if any). Python's `v.value`.
    [[nodiscard]] T get() const
    {
        return m_lock.guarded([&] { return m_layout->value; });
    }

    /// Writes the value (under the lock, if any). Python's `v.value = x`.
    void set(const T& value)
    {
        m_lock.guarded([&] { m_layout->value = value; });
    }

    /// The shared object itself, without locking (Python's get_obj()): hold get_lock() around
    /// anything that must be atomic, such as `v.raw() += 1`.
    [[nodiscard]] T& raw() const noexcept { return m_layout->value; }

    /// The lock (Python's get_lock()). Throws invalid_state_error for a value made without one.
    [[nodiscard]] Lock& get_lock() const
    {
        return m_lock.get("weft: shared_value: a value made with {.lock = false} has no lock");
    }

    /// Whether the value has a lock (its own or an external one).
    [[nodiscard]] bool synchronized() const noexcept { return m_lock.present(); }

    template <class Archive>
    void serialize(Archive& archive)
    {
        archive(m_layout, m_lock);
    }

    /// For cereal: a handle that refers to nothing until loaded.
    explicit shared_value(detail::unloaded_t) noexcept {}

  private:
    static detail::named_header describe(bool with_lock)
    {
        return {detail::named_value_magic, sizeof(T), alignof(T),
                with_lock ? static_cast<std::uint32_t>(sizeof(typename Lock::state_type)) : 0,
                with_lock ? detail::lock_kind<Lock>() : 0};
    }

    void adopt_own_lock()
    {
        m_lock = detail::lock_slot<Lock>(Lock(m_layout.template sibling<typename Lock::state_type>(
            m_layout.offset() + offsetof(layout, lock))));
    }

    detail::shared_ref<layout> m_layout;
    detail::lock_slot<Lock> m_lock;
};

} // namespace weft
