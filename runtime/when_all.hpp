#pragma once

#include <cstddef>
#include <exception>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/detail/child_result.hpp"
#include "runtime/detail/child_runner.hpp"
#include "runtime/detail/child_scope.hpp"
#include "runtime/task.hpp"

namespace weft
{
namespace detail
{

template <class T>
struct when_all_sink
{
    child_scope* scope;
    child_result_slot<T>* slot;

    template <class... U>
    void on_value(U&&... value)
    {
        // The range form of task<void> keeps no slots: success is all there is to record.
        if (slot != nullptr)
        {
            slot->set(std::forward<U>(value)...);
        }
    }
    void on_cancelled(std::exception_ptr error) noexcept { scope->fail(std::move(error)); }
    void on_error(std::exception_ptr error) noexcept { scope->fail(std::move(error)); }
};

template <class... T, std::size_t... I>
void adopt_all(child_scope& scope, std::tuple<child_result_slot<T>...>& slots,
               std::index_sequence<I...> /*indices*/, task<T>&... children)
{
    (scope.adopt(run_child(std::move(children), when_all_sink<T>{&scope, &std::get<I>(slots)})),
     ...);
}

template <class... T>
task<std::tuple<child_value_t<T>...>> when_all_of(task<T>... children)
{
    const std::stop_token outer = co_await this_task::stop_token();
    child_scope scope(outer);
    std::tuple<child_result_slot<T>...> slots;
    adopt_all(scope, slots, std::index_sequence_for<T...>{}, children...);
    co_await scope.run();
    scope.rethrow_if_failed();
    co_return std::apply(
        [](auto&... slot) { return std::tuple<child_value_t<T>...>(slot.take()...); }, slots);
}

template <class T>
using when_all_range_result_t =
    std::conditional_t<std::is_void_v<T>, void, std::vector<child_element_t<T>>>;

template <class T>
task<when_all_range_result_t<T>> when_all_range(std::vector<task<T>> children)
{
    if (children.empty())
    {
        co_return when_all_range_result_t<T>();
    }
    const std::stop_token outer = co_await this_task::stop_token();
    child_scope scope(outer);
    if constexpr (std::is_void_v<T>)
    {
        for (task<void>& child : children)
        {
            scope.adopt(run_child(std::move(child), when_all_sink<void>{&scope, nullptr}));
        }
        co_await scope.run();
        scope.rethrow_if_failed();
    }
    else
    {
        std::vector<child_result_slot<T>> slots(children.size());
        for (std::size_t i = 0; i < children.size(); ++i)
        {
            scope.adopt(run_child(std::move(children[i]), when_all_sink<T>{&scope, &slots[i]}));
        }
        co_await scope.run();
        scope.rethrow_if_failed();
        std::vector<child_element_t<T>> results;
        results.reserve(slots.size());
        for (child_result_slot<T>& slot : slots)
        {
            results.push_back(slot.take());
        }
        co_return results;
    }
}

} // namespace detail

/// `co_await when_all(a, b, c...)` runs every awaitable concurrently on the current loop and
/// yields a std::tuple of their results, in argument order: a task<T> contributes a T, a
/// task<T&> a T&, a task<void> (or an awaitable producing nothing) a std::monostate. Tasks are
/// taken by std::move; any other awaitable is moved (or copied) into a task that awaits it.
///
/// Nothing starts before the returned task is awaited; then every child starts at once, in
/// argument order, and runs under a stop token chained to the awaiting task's (a child given a
/// token of its own with with_stop_token stops when either is stopped).
///
/// Structured: the await completes only once every child has finished and its frame is freed;
/// no child outlives it. The first child to throw (in time) cancels the others, and that first
/// exception is rethrown once they have all finished; later exceptions, such as the others'
/// operation_cancelled, are dropped. A stop of the awaiting task's token cancels every child,
/// so the await then typically throws operation_cancelled.
template <class... Awaitables>
requires(detail::awaitable_argument<Awaitables>&&...)
    [[nodiscard]] auto when_all(Awaitables&&... awaitables)
{
    return detail::when_all_of(detail::to_child_task(std::forward<Awaitables>(awaitables))...);
}

/// `co_await when_all(std::move(tasks))` runs every task concurrently, as the variadic form,
/// and yields their results in the vector's order: a std::vector<T> for task<T>, a
/// std::vector<std::reference_wrapper<T>> for task<T&>, and nothing (task<void>) for
/// task<void>, whose only outcome is success or the first exception. An empty vector completes
/// at once with an empty result.
template <class T>
[[nodiscard]] task<detail::when_all_range_result_t<T>> when_all(std::vector<task<T>> tasks)
{
    return detail::when_all_range(std::move(tasks));
}

} // namespace weft
