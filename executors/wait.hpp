#pragma once
// wait(futures, {return_when, timeout}): Python's concurrent.futures.wait.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "executors/future.hpp"

namespace weft
{

/// When wait() returns, besides its timeout.
enum class return_when
{
    first_completed, ///< any future is done
    first_exception, ///< any future finished with an exception, or all are done
    all_completed,   ///< every future is done
};

struct wait_options
{
    return_when when = return_when::all_completed;
    /// No value: wait without limit. Zero or negative: look, do not wait.
    std::optional<std::chrono::nanoseconds> timeout = std::nullopt;
};

template <class T>
struct wait_result
{
    std::vector<future<T>> done;     ///< finished or cancelled, in the order given
    std::vector<future<T>> not_done; ///< the rest, in the order given
};

namespace detail
{

// Counts completions for one wait() call; callbacks on every future feed it.
struct wait_counter
{
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t done = 0;
    std::size_t failed = 0; // finished with an exception (cancelled does not count, as Python)

    void add(const future_state_base& state)
    {
        std::lock_guard lock(mutex);
        ++done;
        if (state.status() == future_status::finished && state.error())
        {
            ++failed;
        }
        changed.notify_all();
    }
};

} // namespace detail

namespace detail
{
template <class F>
struct future_value;
template <class T>
struct future_value<future<T>>
{
    using type = T;
};
} // namespace detail

/// Waits for the futures per `options` and returns them split into done and not_done, each
/// without duplicates. A timeout is not an error: it returns what is done by then. Throws
/// std::invalid_argument for a return_when outside the enum.
template <std::ranges::input_range R>
auto wait(R&& futures, wait_options options = {})
{
    using T =
        typename detail::future_value<std::remove_cvref_t<std::ranges::range_value_t<R>>>::type;
    if (options.when != return_when::first_completed &&
        options.when != return_when::first_exception && options.when != return_when::all_completed)
    {
        throw std::invalid_argument("weft: invalid return condition " +
                                    std::to_string(static_cast<int>(options.when)));
    }
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (options.timeout)
    {
        deadline = detail::deadline_after(*options.timeout);
    }

    std::vector<future<T>> unique;
    std::unordered_set<const void*> seen;
    for (auto&& f : futures)
    {
        if (seen.insert(f.shared_state().get()).second)
        {
            unique.push_back(f);
        }
    }

    auto counter = std::make_shared<detail::wait_counter>();
    std::vector<std::uint64_t> ids(unique.size(), 0);
    for (std::size_t i = 0; i < unique.size(); ++i)
    {
        ids[i] = unique[i].shared_state()->add_callback([counter](detail::future_state_base& s)
                                                        { counter->add(s); });
        if (ids[i] == 0)
        {
            counter->add(*unique[i].shared_state());
        }
    }

    auto satisfied = [&]
    {
        switch (options.when)
        {
        case return_when::first_completed:
            return counter->done > 0 || unique.empty();
        case return_when::first_exception:
            return counter->failed > 0 || counter->done == unique.size();
        case return_when::all_completed:
            break;
        }
        return counter->done == unique.size();
    };
    {
        std::unique_lock lock(counter->mutex);
        if (deadline)
        {
            counter->changed.wait_until(lock, *deadline, satisfied);
        }
        else
        {
            counter->changed.wait(lock, satisfied);
        }
    }
    for (std::size_t i = 0; i < unique.size(); ++i)
    {
        if (ids[i] != 0)
        {
            unique[i].shared_state()->remove_callback(ids[i]);
        }
    }

    wait_result<T> result;
    for (auto& f : unique)
    {
        (f.done() ? result.done : result.not_done).push_back(std::move(f));
    }
    return result;
}

} // namespace weft
