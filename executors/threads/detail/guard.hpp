#pragma once

#include <utility>

namespace weft::detail
{

/// Python's `with primitive:` as a value: acquire() in the constructor, release() when the
/// guard dies, unless released early. Move-only. Returned by the guard() member of every
/// primitive in executors/threads/.
template <class Primitive>
class [[nodiscard]] guard
{
  public:
    explicit guard(Primitive& primitive) : m_primitive(&primitive) { primitive.acquire(); }
    guard(guard&& other) noexcept : m_primitive(std::exchange(other.m_primitive, nullptr)) {}
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    guard& operator=(guard&&) = delete;
    ~guard()
    {
        if (m_primitive != nullptr)
        {
            m_primitive->release();
        }
    }

    /// Releases now instead of at destruction; a second call does nothing.
    void release()
    {
        if (m_primitive != nullptr)
        {
            std::exchange(m_primitive, nullptr)->release();
        }
    }

    /// True until release() (or a move from this guard).
    [[nodiscard]] bool owns() const noexcept { return m_primitive != nullptr; }

  private:
    Primitive* m_primitive;
};

} // namespace weft::detail
