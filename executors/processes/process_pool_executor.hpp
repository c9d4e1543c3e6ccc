#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "executors/detail/block_allocator.hpp"
#include "executors/future.hpp"
#include "executors/map_options.hpp"
#include "executors/processes/detail/chunked_map.hpp"
#include "executors/processes/detail/pool_task.hpp"
#include "executors/processes/pool_terminated_error.hpp"
#include "executors/processes/remote_error.hpp"
#include "executors/processes/shippable.hpp"
#include "executors/processes/start_method.hpp"
#include "executors/processes/worker_died_error.hpp"
#include "executors/processes/worker_initializer.hpp"

namespace weft
{
namespace detail
{
class pool_core;
} // namespace detail

/// Python's concurrent.futures.ProcessPoolExecutor: runs submitted calls in worker processes
/// and hands back the same weft::future as the thread pool (result/wait/as_completed/co_await).
///
/// Targets are free functions or captureless lambdas; arguments and results are shippable
/// (shippable.hpp), checked at compile time under every start method. Arguments are serialized
/// at submit(), so the caller's objects may change or go away right after.
///
/// Outcomes: the value, or the exception the call threw: the standard exception types as
/// themselves (std::system_error with its code), a user type derived from one of them other
/// than std::runtime_error as weft::remote_error_as<that type>, anything else as
/// weft::remote_error; both carry the type's name and what() (weft::remote_exception).
///
/// Worker death: a worker killed by a signal or exiting while it runs a task fails exactly that
/// task's future with weft::worker_died_error (naming the pid, the signal or exit status and
/// the task; for a map's chunk, its items' positions in the input); the tasks queued behind it go
/// to other workers, a replacement starts, and every other future completes. Unlike Python, the
/// pool does not break. A worker that keeps dying before running anything (three times in a row),
/// an initializer that throws, or more deaths than options::restart_limit allows break the pool:
/// pending and later futures fail with broken_executor_error naming the cause, so a crash loop
/// cannot spin forever.
///
/// Workers are started in the constructor, from the calling thread; spawn and forkserver need
/// weft::main_guard at the top of main. Workers ignore SIGINT: the parent decides.
class process_pool_executor
{
  public:
    /// Unplanned worker deaths (killed, crashed, or exited while running a task) tolerated
    /// within `within`; one more breaks the pool. deaths = 0: no limit.
    struct death_limit
    {
        int deaths = 0;
        std::chrono::milliseconds within = std::chrono::seconds(60);
    };

    /// Designated-initialiser options: `{.max_workers = 4, .max_tasks_per_child = 100}`.
    struct options
    {
        int max_workers = 0; ///< 0: process_cpu_count(), the CPUs this process may use
        std::optional<weft::start_method> start_method = {}; ///< empty: get_start_method()
        /// Run by every worker before its first task (Python's initializer + initargs).
        worker_initializer initializer = {};
        int max_tasks_per_child = 0; ///< a worker is replaced after this many tasks; 0: never
        /// A worker whose resident memory exceeds this many bytes after a task is replaced;
        /// 0: no bound.
        std::size_t max_memory_per_child = 0;
        /// Times a task is re-sent when its worker dies running it (never when it threw).
        int max_retries = 0;
        death_limit restart_limit = {};
    };

    process_pool_executor() : process_pool_executor(options{}) {}
    /// Starts the workers. Throws std::invalid_argument for max_workers < 0 or
    /// max_tasks_per_child < 0, weft::invalid_state_error without main_guard (spawn,
    /// forkserver), std::system_error when the OS refuses.
    explicit process_pool_executor(options opts);
    process_pool_executor(const process_pool_executor&) = delete;
    process_pool_executor& operator=(const process_pool_executor&) = delete;
    /// shutdown(wait = true).
    ~process_pool_executor();

    /// Schedules fn(args...) on a worker and returns its future. Throws invalid_state_error
    /// after shutdown() and broken_executor_error once the pool is broken.
    template <class F, class... Args>
    auto submit(F&& fn, Args&&... args)
    {
        using fn_type = std::decay_t<F>;
        static_assert(check_call<fn_type, std::decay_t<Args>...>());
        using R = std::decay_t<std::invoke_result_t<fn_type, std::decay_t<Args>&&...>>;
        auto call = std::allocate_shared<detail::pool_call<R>>(
            detail::block_allocator<detail::pool_call<R>>());
        call->id = next_task_id();
        call->timing_key = detail::encode_pool_task<fn_type, R, std::decay_t<Args>...>(
            call->message, call->attached, call->id, fn, args...);
        enqueue(call);
        return future<R>(std::shared_ptr<detail::future_state<R>>(std::move(call)));
    }

    /// fn applied to the elements of the inputs taken together (the shortest input ends it), as
    /// a lazy single-pass range of results in input order. Inputs are sent in chunks of
    /// opts.chunksize calls, one message each, at most opts.window chunks ahead of the consumer
    /// (0: see below), so an endless input works and memory stays flat. The timeout counts
    /// from this call; when it passes, or a call threw (which fails its whole chunk, as in
    /// Python), advancing rethrows and the chunks not yet started are cancelled, as they are
    /// when the range is destroyed early. Throws std::invalid_argument for chunksize 0.
    /// The default window is two chunks per worker, or more when chunks are small: up to 32,768
    /// calls, 4,096 chunks and 4 MiB of messages per worker, so that round trips and wake-ups
    /// stay hidden. The window is refilled half at a time, and the new chunks go to the pool
    /// together.
    template <class F, std::ranges::input_range R>
    auto map(F fn, R&& input, map_options opts = {})
    {
        return map_impl(fn, opts, detail::map_order::inputs, std::forward<R>(input));
    }
    template <class F, std::ranges::input_range R1, std::ranges::input_range R2>
    auto map(F fn, R1&& input1, R2&& input2, map_options opts = {})
    {
        return map_impl(fn, opts, detail::map_order::inputs, std::forward<R1>(input1),
                        std::forward<R2>(input2));
    }
    template <class F, std::ranges::input_range R1, std::ranges::input_range R2,
              std::ranges::input_range R3>
    auto map(F fn, R1&& input1, R2&& input2, R3&& input3, map_options opts = {})
    {
        return map_impl(fn, opts, detail::map_order::inputs, std::forward<R1>(input1),
                        std::forward<R2>(input2), std::forward<R3>(input3));
    }

    /// Python's shutdown: no new submissions; cancel_futures cancels the calls that have not
    /// started; wait blocks until every started call finished and the workers exited (even when
    /// some died). Idempotent. Throws invalid_state_error for wait = true from a done-callback
    /// running on the pool's own thread. A call written ahead into a busy worker's ring has
    /// started (its future reports running), as one in Python's call queue.
    void shutdown(bool wait = true, bool cancel_futures = false);

    /// The bounded shutdown, for a Ctrl-C or a deadline: cancels every call not started, gives
    /// the started ones `grace` to finish, then kills the workers still busy (their futures
    /// fail with pool_terminated_error). Returns once every worker is reaped: after at most
    /// `grace` plus the time to kill and reap them. Throws invalid_state_error from a
    /// done-callback running on the pool's own thread.
    void shutdown_within(std::chrono::nanoseconds grace);

    /// Kills the workers now (SIGKILL) and shuts the pool down: every unfinished future, queued
    /// or running, fails with pool_terminated_error, and a shutdown() after it returns as soon
    /// as the workers are reaped. The bounded way out after a Ctrl-C, which the workers ignore
    /// (Python 3.14's terminate_workers()).
    void terminate();

    /// The number of worker processes the pool keeps.
    [[nodiscard]] int max_workers() const noexcept;
    /// The pids of the live workers (for tests and monitoring).
    [[nodiscard]] std::vector<pid_t> worker_pids() const;

  private:
    friend class pool;

    template <class Fn, class... Args>
    static constexpr bool check_call()
    {
        static_assert(detail::check_shippable_function<Fn>());
        static_assert((detail::check_shippable_argument<Args>() && ...));
        static_assert(std::is_invocable_v<Fn, Args&&...>,
                      "weft::process_pool_executor: the target cannot be called with these "
                      "arguments");
        if constexpr (std::is_invocable_v<Fn, Args&&...>)
        {
            using R = std::decay_t<std::invoke_result_t<Fn, Args&&...>>;
            if constexpr (!std::is_void_v<R>)
            {
                static_assert(detail::check_shippable_argument<R>());
            }
        }
        return true;
    }

    // How a chunked map builds and ships its chunks. Spread: each input element is a tuple
    // (or pair) of the arguments, as starmap's.
    template <class Fn, bool Spread, class... Args>
    struct chunk_ops
    {
        using R = std::decay_t<std::invoke_result_t<Fn, Args&&...>>;
        using values = typename detail::pool_outcome<detail::chunk_of<R>>::value_type;

        /// Every argument travels as its bytes: a call is a fixed-size record, which the chunked
        /// map writes straight into the message (put) with no stream and no attachment scope
        /// (plain bytes cannot carry shared memory).
        static constexpr bool raw_arguments = (bytewise_shippable<Args> && ...);
        static constexpr std::size_t record = detail::bytewise_record<Args...>;
        /// An input whose elements are already the records (one argument, same type): a
        /// contiguous run of them is one memcpy.
        template <class Element>
        static constexpr bool same_record =
            raw_arguments && !Spread &&
            std::is_same_v<std::tuple<std::remove_cvref_t<Element>>, std::tuple<Args...>>;

        // The pool's core, not the executor: a map range may outlive its executor, and then
        // finds it shut down (its next chunk is refused) instead of a dangling pointer.
        std::shared_ptr<detail::pool_core> core;
        Fn fn;
        mutable detail::attachments attached; // of the chunk being built
        mutable std::uint64_t timing_key = 0; // begin()'s, the same for every chunk

        /// One call's record at `to` (raw_arguments only); moves `to` past it.
        template <class... Elements>
        static void put(char*& to, const Elements&... elements)
        {
            if constexpr (Spread)
            {
                std::apply([&](const auto&... xs) { (put_one<Args>(to, xs), ...); }, elements...);
            }
            else
            {
                (put_one<Args>(to, elements), ...);
            }
        }
        template <class T, class X>
        static void put_one(char*& to, const X& x)
        {
            const T value = x;
            std::memcpy(to, &value, sizeof(T));
            to += sizeof(T);
        }

        void begin(detail::message_bytes& message) const
        {
            timing_key =
                detail::begin_pool_task(message, &detail::run_pool_chunk<Fn, R, Args...>, fn);
        }
        template <class... Elements>
        void encode(detail::lazy_wire_writer<detail::message_bytes>& writer,
                    const Elements&... elements) const
        {
            detail::attachment_scope scope(attached);
            if constexpr (Spread)
            {
                std::apply([&](const auto&... xs) { (detail::save_value<Args>(writer, xs), ...); },
                           elements...);
            }
            else
            {
                (detail::save_value<Args>(writer, elements), ...);
            }
        }
        /// Makes the call for a finished chunk message of `count` calls and returns its future;
        /// the call waits in `batch` until ship().
        future<values> submit(detail::message_bytes&& message, std::uint32_t count,
                              std::uint64_t first_item) const
        {
            auto call = std::allocate_shared<detail::pool_call<detail::chunk_of<R>>>(
                detail::block_allocator<detail::pool_call<detail::chunk_of<R>>>());
            call->id = next_task_id();
            call->calls = count;
            call->first_item = first_item;
            call->message = std::move(message);
            call->attached = std::exchange(attached, {});
            call->timing_key = timing_key;
            detail::seal_pool_task(call->message, call->id);
            future<values> result{std::shared_ptr<detail::future_state<values>>(call)};
            batch.push_back(std::move(call));
            return result;
        }
        /// Hands every call made since the last ship() to the pool at once (one lock, one
        /// wake-up per worker), or none: throws as submit() would (shut down, broken).
        void ship() const
        {
            if (!batch.empty())
            {
                enqueue_on(core, batch);
            }
        }
        /// Forgets the calls of a batch that could not be shipped.
        void drop_batch() const noexcept { batch.clear(); }

        mutable std::vector<std::shared_ptr<detail::pool_call_base>> batch; // made, not shipped
        detail::pool_map_presence presence;
    };

    template <class Fn, class Tuple, class = std::make_index_sequence<std::tuple_size_v<Tuple>>>
    struct spread_ops;
    template <class Fn, class Tuple, std::size_t... I>
    struct spread_ops<Fn, Tuple, std::index_sequence<I...>>
    {
        static_assert(check_call<Fn, std::decay_t<std::tuple_element_t<I, Tuple>>...>());
        using type = chunk_ops<Fn, true, std::decay_t<std::tuple_element_t<I, Tuple>>...>;
    };

    [[nodiscard]] detail::map_window default_window(const map_options& opts) const;

    template <class F, class... Rs>
    auto map_impl(F fn, map_options opts, detail::map_style style, Rs&&... inputs)
    {
        using fn_type = std::decay_t<F>;
        static_assert(check_call<fn_type, std::decay_t<std::ranges::range_value_t<Rs>>...>());
        using ops = chunk_ops<fn_type, false, std::decay_t<std::ranges::range_value_t<Rs>>...>;
        return detail::chunked_map_range<ops, Rs...>(
            ops{m_core, static_cast<fn_type>(fn), {}, 0, {}, map_presence()}, style,
            checked_chunksize(opts.chunksize), default_window(opts), deadline_of(opts),
            std::forward<Rs>(inputs)...);
    }

    template <class F, class R>
    auto spread_map_impl(F fn, map_options opts, detail::map_style style, R&& input)
    {
        using fn_type = std::decay_t<F>;
        using ops = typename spread_ops<fn_type, std::decay_t<std::ranges::range_value_t<R>>>::type;
        return detail::chunked_map_range<ops, R>(
            ops{m_core, static_cast<fn_type>(fn), {}, 0, {}, map_presence()}, style,
            checked_chunksize(opts.chunksize), default_window(opts), deadline_of(opts),
            std::forward<R>(input));
    }

    static std::size_t checked_chunksize(std::size_t chunksize)
    {
        if (chunksize == 0)
        {
            throw std::invalid_argument("weft: chunksize must be >= 1");
        }
        return chunksize;
    }
    static std::optional<std::chrono::steady_clock::time_point> deadline_of(const map_options& opts)
    {
        if (!opts.timeout)
        {
            return std::nullopt;
        }
        return detail::deadline_after(*opts.timeout);
    }

    static std::uint64_t next_task_id() noexcept;
    [[nodiscard]] detail::pool_map_presence map_presence() const noexcept;
    void enqueue(std::shared_ptr<detail::pool_call_base> call);
    /// Enqueues every call of `calls` (emptied) under one lock, or throws before any.
    void enqueue(std::vector<std::shared_ptr<detail::pool_call_base>>& calls);
    static void enqueue_on(const std::shared_ptr<detail::pool_core>& core,
                           std::vector<std::shared_ptr<detail::pool_call_base>>& calls);

    std::shared_ptr<detail::pool_core> m_core;
};

} // namespace weft
