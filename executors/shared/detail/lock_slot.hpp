#pragma once
// The lock of a shared_value or shared_array: its own, an external one, or none (the raw
// variants); what the guarded accessors, get_lock() and the wire form share.

#include <cstdint>
#include <type_traits>
#include <utility>

#include "executors/interprocess/lock.hpp"
#include "executors/interprocess/rlock.hpp"
#include "executors/processes/shippable.hpp"
#include "runtime/errors.hpp"

namespace weft::detail
{

/// Tells locks with the same state apart in a named object's header (an rlock's memory must
/// not be opened as a plain lock).
template <class Lock>
[[nodiscard]] constexpr std::uint32_t lock_kind() noexcept
{
    return std::is_same_v<Lock, interprocess::rlock>  ? 1
           : std::is_same_v<Lock, interprocess::lock> ? 2
                                                      : 3;
}

template <class Lock>
class lock_slot
{
  public:
    /// No lock.
    lock_slot() noexcept = default;
    explicit lock_slot(Lock lock) : m_lock(std::move(lock)), m_present(true) {}

    [[nodiscard]] bool present() const noexcept { return m_present; }

    /// The lock; `missing` is the message when there is none (invalid_state_error).
    [[nodiscard]] Lock& get(const char* missing) const
    {
        if (!m_present)
        {
            throw invalid_state_error(missing);
        }
        return m_lock;
    }

    /// f() under the lock, or just f() when there is none.
    template <class F>
    decltype(auto) guarded(F&& f) const
    {
        if (!m_present)
        {
            return std::forward<F>(f)();
        }
        auto held = m_lock.guard();
        return std::forward<F>(f)();
    }

    template <class Archive>
    void save(Archive& archive) const
    {
        archive(m_present);
        if (m_present)
        {
            archive(m_lock);
        }
    }
    template <class Archive>
    void load(Archive& archive)
    {
        archive(m_present);
        if (m_present)
        {
            archive(m_lock);
        }
    }

  private:
    // A plain handle and a flag, not std::optional: g++ 12 -O3 reports a false
    // -Wmaybe-uninitialized for an optional handle inside a process target's argument tuple.
    mutable Lock m_lock{unloaded};
    bool m_present = false;
};

} // namespace weft::detail
