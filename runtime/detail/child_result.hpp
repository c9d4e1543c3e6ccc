#pragma once
// How the combinators take their arguments and keep their children's results: any awaitable
// becomes a task (so that it can be given a stop token and run concurrently), and each result
// waits in a slot until the combinator returns.

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "runtime/detail/awaitable_traits.hpp"
#include "runtime/task.hpp"

namespace weft::detail
{

/// Something `co_await` accepts: an awaiter, or a type with operator co_await.
template <class A>
concept awaitable_argument = requires(A&& a)
{
    detail::get_awaiter(std::forward<A>(a)).await_ready();
};

/// The task value type an awaitable's result is kept as: lvalue references stay references,
/// anything else is held by value (an awaiter returning T&& gives a T).
template <class R>
using child_task_value_t =
    std::conditional_t<std::is_lvalue_reference_v<R>, R, std::remove_cvref_t<R>>;

/// What a child producing T contributes to a tuple or a when_any_result: std::monostate for
/// void, T& for T&, T otherwise.
template <class T>
using child_value_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

/// What a child producing T contributes to a vector or a variant, which cannot hold
/// references: std::reference_wrapper<U> for U&, otherwise as child_value_t.
template <class T>
using child_element_t =
    std::conditional_t<std::is_lvalue_reference_v<T>,
                       std::reference_wrapper<std::remove_reference_t<T>>, child_value_t<T>>;

template <class R, class A>
task<R> await_in_task(A awaitable)
{
    if constexpr (std::is_void_v<R>)
    {
        co_await std::move(awaitable);
    }
    else
    {
        co_return co_await std::move(awaitable);
    }
}

/// `awaitable` itself when it is a task (which must be passed as an rvalue), otherwise a task
/// that awaits it.
template <class A>
auto to_child_task(A&& awaitable)
{
    using plain = std::remove_cvref_t<A>;
    if constexpr (is_task<plain>::value)
    {
        static_assert(!std::is_lvalue_reference_v<A>,
                      "weft: a task is move-only; pass it to when_all/when_any with std::move");
        return plain(std::move(awaitable));
    }
    else
    {
        return await_in_task<child_task_value_t<await_result_t<A>>, plain>(
            std::forward<A>(awaitable));
    }
}

/// Holds one child's result until the combinator collects it.
template <class T>
class child_result_slot
{
  public:
    template <class U>
    void set(U&& value)
    {
        m_value.emplace(std::forward<U>(value));
    }
    [[nodiscard]] T take() { return std::move(*m_value); }

  private:
    std::optional<T> m_value;
};

template <class T>
class child_result_slot<T&>
{
  public:
    void set(T& value) noexcept { m_value = std::addressof(value); }
    [[nodiscard]] T& take() const noexcept { return *m_value; }

  private:
    T* m_value = nullptr;
};

template <>
class child_result_slot<void>
{
  public:
    void set() const noexcept {}
    [[nodiscard]] std::monostate take() const noexcept { return {}; }
};

} // namespace weft::detail
