#pragma once
// What `co_await x` produces, and a way to turn any awaitable into a task so that it can be
// given a stop token, started concurrently, or stored.

#include <type_traits>
#include <utility>

#include "runtime/task.hpp"

namespace weft::detail
{

template <class A>
decltype(auto) get_awaiter(A&& awaitable)
{
    if constexpr (requires { std::forward<A>(awaitable).operator co_await(); })
    {
        return std::forward<A>(awaitable).operator co_await();
    }
    else if constexpr (requires { operator co_await(std::forward<A>(awaitable)); })
    {
        return operator co_await(std::forward<A>(awaitable));
    }
    else
    {
        return std::forward<A>(awaitable);
    }
}

template <class A>
using await_result_t = decltype(get_awaiter(std::declval<A>()).await_resume());

template <class T>
struct is_task : std::false_type
{
};
template <class T>
struct is_task<task<T>> : std::true_type
{
};

template <class A>
task<await_result_t<A>> wrap_in_task(A awaitable)
{
    co_return co_await std::move(awaitable);
}

/// `awaitable` itself when it is a task; otherwise a task that awaits it.
template <class A>
auto as_task(A&& awaitable)
{
    using plain = std::remove_cvref_t<A>;
    if constexpr (is_task<plain>::value)
    {
        return plain(std::forward<A>(awaitable));
    }
    else
    {
        return wrap_in_task<plain>(std::forward<A>(awaitable));
    }
}

} // namespace weft::detail
