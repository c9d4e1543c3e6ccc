#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "executors/future.hpp"
#include "executors/processes/detail/pool_task.hpp"
#include "executors/processes/remote_error.hpp"
#include "executors/processes/shippable.hpp"
#include "executors/processes/start_method.hpp"
#include "executors/processes/worker_died_error.hpp"

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
/// Outcomes: the value, or the exception the call threw (std::runtime_error, std::logic_error
/// and the other standard types with a message constructor as themselves, anything else as
/// weft::remote_error with the type name and what()).
///
/// Worker death: a worker killed by a signal or exiting while it runs a task fails exactly that
/// task's future with weft::worker_died_error (naming the pid, the signal or exit status and
/// the task); the tasks queued behind it go to other workers, a replacement starts, and
/// every other future completes. Unlike Python, the pool does not break. A worker that keeps
/// dying before running anything (three times in a row) breaks the pool: pending and later
/// futures fail with broken_executor_error, so a crash loop cannot spin forever.
///
/// Workers are started in the constructor, from the calling thread; spawn and forkserver need
/// weft::main_guard at the top of main. Workers ignore SIGINT: the parent decides.
class process_pool_executor
{
  public:
    /// Designated-initialiser options: `{.max_workers = 4, .max_tasks_per_child = 100}`.
    struct options
    {
        int max_workers = 0;                                 ///< 0: the number of CPUs
        std::optional<weft::start_method> start_method = {}; ///< empty: get_start_method()
        int max_tasks_per_child = 0; ///< a worker is replaced after this many tasks; 0: never
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
        static_assert(detail::check_shippable_function<fn_type>());
        static_assert((detail::check_shippable_argument<std::decay_t<Args>>() && ...));
        static_assert(std::is_invocable_v<fn_type, std::decay_t<Args>&&...>,
                      "weft::process_pool_executor: the target cannot be called with these "
                      "arguments");
        using R = std::decay_t<std::invoke_result_t<fn_type, std::decay_t<Args>&&...>>;
        if constexpr (!std::is_void_v<R>)
        {
            static_assert(detail::check_shippable_argument<R>());
        }
        auto call = std::make_shared<detail::pool_call<R>>();
        call->id = next_task_id();
        detail::encode_pool_task<fn_type, R, std::decay_t<Args>...>(call->message, call->id, fn,
                                                                    args...);
        enqueue(call);
        return future<R>(std::shared_ptr<detail::future_state<R>>(std::move(call)));
    }

    /// Python's shutdown: no new submissions; cancel_futures cancels the calls that have not
    /// started; wait blocks until every started call finished and the workers exited (even when
    /// some died). Idempotent. Throws invalid_state_error for wait = true from a done-callback
    /// running on the pool's own thread.
    void shutdown(bool wait = true, bool cancel_futures = false);

    /// The number of worker processes the pool keeps.
    [[nodiscard]] int max_workers() const noexcept;
    /// The pids of the live workers (for tests and monitoring).
    [[nodiscard]] std::vector<pid_t> worker_pids() const;

  private:
    std::uint64_t next_task_id() noexcept;
    void enqueue(std::shared_ptr<detail::pool_call_base> call);

    std::shared_ptr<detail::pool_core> m_core;
};

} // namespace weft
