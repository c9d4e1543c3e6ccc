#pragma once

namespace weft::interprocess
{

/// What acquiring an interprocess lock tells: whether it was acquired (it converts to bool, so
/// `if (l.acquire(1s))` reads as Python's), and whether the previous holder died holding it.
/// After owner_died() the caller holds the lock, and the data it guards may be half-updated
/// by the process that died: check or repair it before releasing.
class acquired
{
  public:
    constexpr acquired(bool acquired, bool owner_died) noexcept
        : m_acquired(acquired), m_owner_died(owner_died)
    {
    }
    constexpr operator bool() const noexcept { return m_acquired; } // NOLINT: Python's bool
    [[nodiscard]] constexpr bool owner_died() const noexcept { return m_owner_died; }

  private:
    bool m_acquired;
    bool m_owner_died;
};

} // namespace weft::interprocess
