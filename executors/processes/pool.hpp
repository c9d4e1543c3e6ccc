#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "executors/future.hpp"
#include "executors/map_options.hpp"
#include "executors/processes/process_pool_executor.hpp"
#include "executors/promise.hpp"
#include "runtime/errors.hpp"

namespace weft
{

namespace detail
{
/// The default of apply_async's and map_async's callbacks: none.
struct no_callback
{
};

/// Runs a pool callback; what it throws goes to the callback error handler, as an exception
/// from a done-callback does.
template <class Callback, class... Args>
void run_pool_callback(Callback& callback, Args&&... args) noexcept
{
    if constexpr (!std::is_same_v<Callback, no_callback>)
    {
        try
        {
            std::invoke(callback, std::forward<Args>(args)...);
        }
        catch (...)
        {
            report_callback_error(std::current_exception());
        }
    }
}
} // namespace detail

/// Python's multiprocessing.Pool on top of process_pool_executor: the same workers, transport,
/// start methods, shipping rules and worker-death handling, with Pool's methods.
///
/// Differences from Python, on purpose: destroying the pool closes and joins it (Python's
/// `with Pool()` terminates, dropping unfinished work); terminate() fails every unfinished
/// result with pool_terminated_error instead of leaving it pending forever; a worker death fails
/// only the tasks it held; map/imap read their input lazily, a window of chunks ahead.
/// Callbacks (apply_async, map_async) run on the pool's result thread, before the future they
/// belong to is done, as in Python; they should be quick.
class pool
{
  public:
    using options = process_pool_executor::options;

    /// One worker per CPU this process may use (process_cpu_count()).
    pool() : pool(options{}) {}
    /// Pool(processes). Throws std::invalid_argument for processes < 1.
    explicit pool(int processes);
    /// Every option of process_pool_executor: `{.max_workers, .initializer,
    /// .max_tasks_per_child, ...}` (Python's processes, initializer + initargs,
    /// maxtasksperchild).
    explicit pool(options opts) : m_executor(std::move(opts)) {}
    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;
    /// close() then join(): every submitted task finishes first.
    ~pool();

    /// fn(args...) on a worker; blocks for the result and rethrows the task's exception.
    template <class F, class... Args>
    auto apply(F fn, Args&&... args)
    {
        require_running();
        return m_executor.submit(fn, std::forward<Args>(args)...).result();
    }

    /// fn(args...) with the arguments as a tuple, as Python's apply_async(fn, args, ...). The
    /// future is done after on_value(result) or on_error(std::exception_ptr) has run.
    template <class F, class... Args, class OnValue = detail::no_callback,
              class OnError = detail::no_callback>
    auto apply_async(F fn, std::tuple<Args...> args, OnValue on_value = {}, OnError on_error = {})
    {
        require_running();
        auto inner =
            std::apply([&](auto&... xs) { return m_executor.submit(fn, std::move(xs)...); }, args);
        return relay(std::move(inner), std::move(on_value), std::move(on_error));
    }

    /// [fn(x) for x in input], blocking. chunksize 0: Python's default, default_chunksize()
    /// (an input without a size is then read into a vector first, as Python lists it). The input is
    /// read lazily, at most `window` chunks ahead of the results (0: the executor map's default,
    /// two or more per worker), so memory stays bounded by the window and the result;
    /// `eager_window` sends every chunk at once, as Python does.
    template <class F, std::ranges::input_range R>
    auto map(F fn, R&& input, std::size_t chunksize = 0, std::size_t window = 0)
    {
        return blocking_map<call_shape::plain>(fn, std::forward<R>(input), chunksize, window);
    }

    /// [fn(*args) for args in input] for an input of tuples (or pairs), blocking; chunksize and
    /// window as map's.
    template <class F, std::ranges::input_range R>
    auto starmap(F fn, R&& input, std::size_t chunksize = 0, std::size_t window = 0)
    {
        return blocking_map<call_shape::spread>(fn, std::forward<R>(input), chunksize, window);
    }

    /// map without blocking: every chunk is submitted now (the input is read at once, as in
    /// Python); the future holds the whole list. It is done when every chunk has finished, even
    /// after one failed (Python's test_map_no_failfast): on_value(list) or, with the exception
    /// of the first chunk to fail, on_error(exception_ptr) runs once, before it is done.
    template <class F, std::ranges::input_range R, class OnValue = detail::no_callback,
              class OnError = detail::no_callback>
    auto map_async(F fn, R&& input, std::size_t chunksize = 0, OnValue on_value = {},
                   OnError on_error = {})
    {
        return async_map<call_shape::plain>(fn, std::forward<R>(input), chunksize,
                                            std::move(on_value), std::move(on_error));
    }

    /// starmap without blocking, as map_async.
    template <class F, std::ranges::input_range R, class OnValue = detail::no_callback,
              class OnError = detail::no_callback>
    auto starmap_async(F fn, R&& input, std::size_t chunksize = 0, OnValue on_value = {},
                       OnError on_error = {})
    {
        return async_map<call_shape::spread>(fn, std::forward<R>(input), chunksize,
                                             std::move(on_value), std::move(on_error));
    }

    /// A lazy range of fn(x) in input order, chunksize inputs per message, at most `window`
    /// chunks ahead of the consumer (0: the executor map's default). An endless input works.
    /// As Python's imap, a failure does not end it: a chunk whose call threw is one position,
    /// whose `*it` rethrows that exception, and `++it` goes on with the next chunk (Python
    /// raises once per failed chunk too, and at chunksize 1 goes on; at larger chunksizes its
    /// generator ends there). A range-for loop ends at the throw, as Python's for loop does.
    /// Instead of iterating, read it with `next()` or `next(timeout)` (Python's
    /// `next(timeout)`): the next value, nullopt after the last, or timeout_error when it is
    /// not ready in time, the value staying there for the next call.
    template <class F, std::ranges::input_range R>
    auto imap(F fn, R&& input, std::size_t chunksize = 1, std::size_t window = 0)
    {
        require_running();
        return m_executor.map_impl(fn, {.chunksize = chunksize, .window = window},
                                   {detail::map_order::inputs, true}, std::forward<R>(input));
    }

    /// imap whose values come chunk by chunk in the order the chunks finish; a failed chunk is
    /// a position as in imap.
    template <class F, std::ranges::input_range R>
    auto imap_unordered(F fn, R&& input, std::size_t chunksize = 1, std::size_t window = 0)
    {
        require_running();
        return m_executor.map_impl(fn, {.chunksize = chunksize, .window = window},
                                   {detail::map_order::completion, true}, std::forward<R>(input));
    }

    /// No more tasks; the workers exit once every submitted task has finished.
    void close();
    /// Kills the workers now; every unfinished result fails with pool_terminated_error.
    void terminate();
    /// close(), then the executor's bounded shutdown: the tasks not started are cancelled, the
    /// running ones get `grace` to finish before their workers are killed (their results fail
    /// with pool_terminated_error). Returns once the workers are reaped; join() may follow.
    void shutdown_within(std::chrono::nanoseconds grace);
    /// Waits for the workers to exit. Throws invalid_state_error unless close() or terminate()
    /// came first, as Python.
    void join();

    [[nodiscard]] int processes() const noexcept { return m_executor.max_workers(); }

    /// The chunksize map, starmap and their async forms use when given 0: Python's Pool formula,
    /// ceil(items / (4 * processes)), but at least 1 (Python's is 0 for no items, which sends
    /// nothing either way). 10 items on 2 processes: 2; 100 on 4: 7; 1000 on 4: 63.
    [[nodiscard]] static constexpr std::size_t default_chunksize(std::size_t items,
                                                                 int processes) noexcept
    {
        const std::size_t per = 4 * static_cast<std::size_t>(processes < 1 ? 1 : processes);
        const std::size_t size = items / per + (items % per != 0 ? 1 : 0);
        return size < 1 ? 1 : size;
    }

    /// map's and starmap's window for Python's eager behaviour: every chunk in flight at once.
    static constexpr std::size_t eager_window = static_cast<std::size_t>(-1);
    /// The pids of the live workers.
    [[nodiscard]] std::vector<pid_t> worker_pids() const { return m_executor.worker_pids(); }

  private:
    enum class state
    {
        running,
        closed,
        terminated,
    };

    void require_running() const;

    // How an input element becomes a call's arguments: fn(x), or fn(x...) for a tuple (starmap).
    enum class call_shape
    {
        plain,
        spread,
    };

    // The executor's lazy map range over `in`, in input order.
    template <call_shape Shape, class F, class In>
    auto start_map(F fn, map_options opts, In&& in)
    {
        if constexpr (Shape == call_shape::spread)
        {
            return m_executor.spread_map_impl(fn, opts, detail::map_order::inputs,
                                              std::forward<In>(in));
        }
        else
        {
            return m_executor.map_impl(fn, opts, detail::map_order::inputs, std::forward<In>(in));
        }
    }

    // map and starmap: every value, in input order.
    template <call_shape Shape, class F, class R>
    auto blocking_map(F fn, R&& input, std::size_t chunksize, std::size_t window)
    {
        require_running();
        if constexpr (!std::ranges::sized_range<R>)
        {
            if (chunksize != 0) // no length needed: the input is read as the window moves
            {
                return collect(start_map<Shape>(fn, {.chunksize = chunksize, .window = window},
                                                std::forward<R>(input)),
                               0);
            }
        }
        return with_sized_input(
            std::forward<R>(input),
            [&](auto&& in)
            {
                const std::size_t size = pick_chunksize(in, chunksize);
                const auto total = static_cast<std::size_t>(std::ranges::size(in));
                return collect(start_map<Shape>(fn, {.chunksize = size, .window = window},
                                                std::forward<decltype(in)>(in)),
                               total);
            });
    }

    // map_async and starmap_async: every chunk submitted now, one future for the whole list.
    template <call_shape Shape, class F, class R, class OnValue, class OnError>
    auto async_map(F fn, R&& input, std::size_t chunksize, OnValue on_value, OnError on_error)
    {
        require_running();
        return with_sized_input(
            std::forward<R>(input),
            [&](auto&& in)
            {
                auto range =
                    start_map<Shape>(fn, {.chunksize = pick_chunksize(in, chunksize), .window = 1},
                                     std::forward<decltype(in)>(in));
                return gather(range.submit_all(), std::move(on_value), std::move(on_error));
            });
    }

    // Calls make(input), with the input read into a vector first when it has no size and the
    // chunksize is Python's default (which needs the length).
    template <class R, class Make>
    static auto with_sized_input(R&& input, Make make)
    {
        if constexpr (std::ranges::sized_range<R>)
        {
            return make(std::forward<R>(input));
        }
        else
        {
            std::vector<std::decay_t<std::ranges::range_value_t<R>>> all;
            for (auto&& x : input)
            {
                all.push_back(std::forward<decltype(x)>(x));
            }
            return make(std::move(all));
        }
    }

    template <class R>
    std::size_t pick_chunksize(const R& input, std::size_t chunksize) const
    {
        if (chunksize != 0)
        {
            return chunksize;
        }
        return default_chunksize(static_cast<std::size_t>(std::ranges::size(input)), processes());
    }

    // `total`: the input's length, reserved at once so that the values are copied once, not
    // again at every doubling of the vector.
    template <class Range>
    static auto collect(Range&& range, std::size_t total)
    {
        std::vector<std::remove_cvref_t<decltype(*range.begin())>> values;
        values.reserve(total);
        range.append_all(values);
        return values;
    }

    // A future that is done after the callback for `inner`'s outcome has run.
    template <class T, class OnValue, class OnError>
    static future<T> relay(future<T> inner, OnValue on_value, OnError on_error)
    {
        if constexpr (std::is_same_v<OnValue, detail::no_callback> &&
                      std::is_same_v<OnError, detail::no_callback>)
        {
            return inner;
        }
        else
        {
            auto outer = std::make_shared<promise<T>>();
            future<T> result = outer->get_future();
            inner.add_done_callback(
                [outer, on_value = std::move(on_value),
                 on_error = std::move(on_error)](const future<T>& done) mutable
                {
                    future<T> self = done;
                    try
                    {
                        if constexpr (std::is_void_v<T>)
                        {
                            std::move(self).result();
                            detail::run_pool_callback(on_value);
                            outer->set_result();
                        }
                        else
                        {
                            T value = std::move(self).result();
                            detail::run_pool_callback(on_value, std::as_const(value));
                            outer->set_result(std::move(value));
                        }
                    }
                    catch (...)
                    {
                        auto error = std::current_exception();
                        detail::run_pool_callback(on_error, error);
                        outer->set_exception(error);
                    }
                });
            return result;
        }
    }

    // One future for the values of all the chunks, in order. As Python's map_async (no fail-fast):
    // it is done when every chunk is, and the first chunk to fail (in the order they finished)
    // fails it, with one error callback.
    template <class Values, class OnValue, class OnError>
    static future<Values> gather(std::vector<future<Values>> chunks, OnValue on_value,
                                 OnError on_error)
    {
        struct gathering
        {
            gathering(std::size_t chunks, OnValue value_callback, OnError error_callback)
                : parts(chunks), left(chunks), on_value(std::move(value_callback)),
                  on_error(std::move(error_callback))
            {
            }
            std::mutex mutex;
            std::vector<Values> parts;
            std::size_t left;
            std::exception_ptr first_error;
            promise<Values> out;
            OnValue on_value;
            OnError on_error;
        };
        auto g =
            std::make_shared<gathering>(chunks.size(), std::move(on_value), std::move(on_error));
        future<Values> result = g->out.get_future();
        if (chunks.empty())
        {
            Values none;
            detail::run_pool_callback(g->on_value, std::as_const(none));
            g->out.set_result(std::move(none));
            return result;
        }
        for (std::size_t i = 0; i < chunks.size(); ++i)
        {
            chunks[i].add_done_callback(
                [g, i](const future<Values>& done)
                {
                    future<Values> self = done;
                    std::unique_lock lock(g->mutex);
                    try
                    {
                        Values part = std::move(self).result();
                        if (!g->first_error)
                        {
                            g->parts[i] = std::move(part);
                        }
                    }
                    catch (...)
                    {
                        if (!g->first_error)
                        {
                            g->first_error = std::current_exception();
                            g->parts = {}; // nothing of them will be seen
                        }
                    }
                    if (--g->left != 0)
                    {
                        return;
                    }
                    lock.unlock();
                    if (g->first_error)
                    {
                        detail::run_pool_callback(g->on_error, g->first_error);
                        g->out.set_exception(g->first_error);
                        return;
                    }
                    Values all;
                    for (auto& part : g->parts)
                    {
                        all.insert(all.end(), std::make_move_iterator(part.begin()),
                                   std::make_move_iterator(part.end()));
                    }
                    detail::run_pool_callback(g->on_value, std::as_const(all));
                    g->out.set_result(std::move(all));
                });
        }
        return result;
    }

    process_pool_executor m_executor;
    std::atomic<state> m_state{state::running};
    std::mutex m_join_mutex;
};

} // namespace weft
