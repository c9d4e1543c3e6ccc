#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/detail/child_result.hpp"
#include "runtime/detail/child_runner.hpp"
#include "runtime/detail/child_scope.hpp"
#include "runtime/task.hpp"

namespace weft
{

/// What `co_await when_any(std::move(tasks))` yields: the position of the winning task in the
/// vector and its result, a T for task<T>, a T& for task<T&>, a std::monostate for task<void>.
template <class T>
struct when_any_result
{
    std::size_t index;
    detail::child_value_t<T> value;
};

/// What `co_await when_any(a, b, c...)` yields: the position of the winning argument, and its
/// result in the variant alternative of that same index (so two arguments of the same type stay
/// distinct): a T for an awaitable producing T, a std::reference_wrapper<T> for T&, a
/// std::monostate for one producing nothing. Read it with
/// `std::get<I>(result.value)` after checking `result.index == I`.
template <class... T>
struct when_any_variant_result
{
    std::size_t index;
    std::variant<detail::child_element_t<T>...> value;
};

namespace detail
{

// The first child to finish, whatever its outcome, claims the win and cancels the others;
// whatever they do afterwards is ignored.
struct when_any_race
{
    child_scope* scope;
    std::optional<std::size_t> winner;
    std::exception_ptr error;

    [[nodiscard]] bool decided() const noexcept { return winner.has_value(); }
    void claim(std::size_t index) noexcept
    {
        winner = index;
        scope->request_stop();
    }
    void lose_to(std::size_t index, std::exception_ptr e) noexcept
    {
        if (!decided())
        {
            error = std::move(e);
            claim(index);
        }
    }
    void rethrow_if_failed() const
    {
        if (error)
        {
            std::rethrow_exception(error);
        }
    }
};

template <class T>
struct when_any_range_sink
{
    when_any_race* race;
    child_result_slot<T>* slot;
    std::size_t index;

    template <class... U>
    void on_value(U&&... value)
    {
        if (!race->decided())
        {
            slot->set(std::forward<U>(value)...);
            race->claim(index);
        }
    }
    void on_cancelled(std::exception_ptr error) noexcept { race->lose_to(index, std::move(error)); }
    void on_error(std::exception_ptr error) noexcept { race->lose_to(index, std::move(error)); }
};

template <std::size_t I, class Variant>
struct when_any_variant_sink
{
    when_any_race* race;
    std::optional<Variant>* value;

    template <class... U>
    void on_value(U&&... result)
    {
        if (!race->decided())
        {
            value->emplace(std::in_place_index<I>, std::forward<U>(result)...);
            race->claim(I);
        }
    }
    void on_cancelled(std::exception_ptr error) noexcept { race->lose_to(I, std::move(error)); }
    void on_error(std::exception_ptr error) noexcept { race->lose_to(I, std::move(error)); }
};

template <class T>
task<when_any_result<T>> when_any_range(std::vector<task<T>> children)
{
    if (children.empty())
    {
        throw std::invalid_argument("weft: when_any of an empty range has no task to wait for");
    }
    const std::stop_token outer = co_await this_task::stop_token();
    child_scope scope(outer);
    when_any_race race{&scope, std::nullopt, nullptr};
    child_result_slot<T> slot;
    for (std::size_t i = 0; i < children.size(); ++i)
    {
        scope.adopt(run_child(std::move(children[i]), when_any_range_sink<T>{&race, &slot, i}));
    }
    co_await scope.run();
    race.rethrow_if_failed();
    co_return when_any_result<T>{*race.winner, slot.take()};
}

template <class Variant, class... T, std::size_t... I>
void adopt_any(child_scope& scope, when_any_race& race, std::optional<Variant>& value,
               std::index_sequence<I...> /*indices*/, task<T>&... children)
{
    (scope.adopt(run_child(std::move(children), when_any_variant_sink<I, Variant>{&race, &value})),
     ...);
}

template <class... T>
task<when_any_variant_result<T...>> when_any_of(task<T>... children)
{
    using variant = std::variant<child_element_t<T>...>;
    const std::stop_token outer = co_await this_task::stop_token();
    child_scope scope(outer);
    when_any_race race{&scope, std::nullopt, nullptr};
    std::optional<variant> value;
    adopt_any(scope, race, value, std::index_sequence_for<T...>{}, children...);
    co_await scope.run();
    race.rethrow_if_failed();
    co_return when_any_variant_result<T...>{*race.winner, std::move(*value)};
}

} // namespace detail

/// `co_await when_any(std::move(tasks))` runs every task concurrently on the current loop and
/// yields the first one to finish, as a when_any_result {index, value}.
///
/// The first task to finish wins, whatever its outcome: the others are cancelled at once, and
/// the await completes only once every one of them has finished and its frame is freed (no
/// child outlives it). If the winner threw, its exception is rethrown. What the others do after
/// the winner, values, operation_cancelled or other exceptions, is dropped.
///
/// Children start, in order, when the returned task is awaited, under a stop token chained to
/// the awaiting task's: a stop of that token cancels them all, and the first to finish (with
/// operation_cancelled, typically) wins. An empty vector throws std::invalid_argument from the
/// await.
template <class T>
[[nodiscard]] task<when_any_result<T>> when_any(std::vector<task<T>> tasks)
{
    return detail::when_any_range(std::move(tasks));
}

/// `co_await when_any(a, b, c...)`: the variadic form, over any awaitables (tasks by
/// std::move), yielding a when_any_variant_result {index, variant}. Same rules as the vector
/// form.
template <class... Awaitables>
requires(sizeof...(Awaitables) > 0 && (detail::awaitable_argument<Awaitables> && ...))
    [[nodiscard]] auto when_any(Awaitables&&... awaitables)
{
    return detail::when_any_of(detail::to_child_task(std::forward<Awaitables>(awaitables))...);
}

} // namespace weft
