#pragma once
// thread_pool_executor: Python's concurrent.futures.ThreadPoolExecutor.

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "executors/detail/map_range.hpp"
#include "executors/detail/work_item.hpp"
#include "executors/errors.hpp"
#include "executors/future.hpp"
#include "executors/map_options.hpp"

namespace weft
{

/// Runs submitted calls on a pool of OS threads and hands back futures.
///
/// Threads are created as work arrives, an idle one is reused before a new one is started, up to
/// max_workers. The destructor is shutdown(wait = true). A pool is neither copyable nor movable:
/// its threads hold a pointer to it.
class thread_pool_executor
{
  public:
    struct options
    {
        /// No value: min(32, process_cpu_count() + 4), as Python 3.13. Zero or negative:
        /// std::invalid_argument.
        std::optional<int> max_workers = std::nullopt;
        /// Threads are named "<prefix>_<n>" (the OS name keeps the first 15 characters); an
        /// empty prefix gives "ThreadPoolExecutor-<pool>".
        std::string thread_name_prefix = {};
        /// Runs first on every new thread. If it throws, the pool is broken: every pending and
        /// later future fails with broken_executor_error.
        std::function<void()> initializer = {};
    };

    thread_pool_executor() : thread_pool_executor(options{}) {}
    explicit thread_pool_executor(options opts);
    ~thread_pool_executor();
    thread_pool_executor(const thread_pool_executor&) = delete;
    thread_pool_executor& operator=(const thread_pool_executor&) = delete;

    /// Schedules fn(args...) (fn and args are copied or moved in, as std::thread does) and
    /// returns its future. Throws invalid_state_error after shutdown and broken_executor_error
    /// once the pool is broken.
    template <class F, class... Args>
    requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
    auto submit(F&& fn, Args&&... args)
    {
        auto item = detail::make_call_item(std::forward<F>(fn), std::forward<Args>(args)...);
        using R = typename std::remove_cvref_t<decltype(*item)>::result_type;
        enqueue(item);
        return future<R>(std::move(item));
    }

    /// fn applied to the elements of the inputs taken together (the shortest input ends it), as
    /// a lazy single-pass range of results in input order. At most `opts.window` calls run ahead
    /// of the consumer (the first window is submitted at once), so an endless input works and
    /// memory stays flat. The timeout counts from this call; when it passes, or a call threw,
    /// advancing rethrows and the calls not yet started are cancelled, as they are when the
    /// range is destroyed early. opts.chunksize must be >= 1; threads ignore it, as in Python.
    template <class F, std::ranges::input_range R>
    auto map(F fn, R&& input, map_options opts = {})
    {
        return map_impl(std::move(fn), opts, std::forward<R>(input));
    }
    template <class F, std::ranges::input_range R1, std::ranges::input_range R2>
    auto map(F fn, R1&& input1, R2&& input2, map_options opts = {})
    {
        return map_impl(std::move(fn), opts, std::forward<R1>(input1), std::forward<R2>(input2));
    }
    template <class F, std::ranges::input_range R1, std::ranges::input_range R2,
              std::ranges::input_range R3>
    auto map(F fn, R1&& input1, R2&& input2, R3&& input3, map_options opts = {})
    {
        return map_impl(std::move(fn), opts, std::forward<R1>(input1), std::forward<R2>(input2),
                        std::forward<R3>(input3));
    }

    /// Stops accepting work. cancel_futures: futures not yet started are cancelled. wait: returns
    /// once every thread has finished its queue and exited; otherwise at once (the destructor
    /// still waits). Idempotent. Throws invalid_state_error for wait = true on one of the pool's
    /// own threads, which would wait for itself.
    void shutdown(bool wait = true, bool cancel_futures = false);

    [[nodiscard]] int max_workers() const noexcept { return m_max_workers; }

  private:
    template <class F, class... Rs>
    auto map_impl(F fn, map_options opts, Rs&&... inputs)
    {
        validate(opts);
        if (opts.window == 0)
        {
            opts.window = 2 * static_cast<std::size_t>(m_max_workers);
        }
        auto submit_one = [this, fn = std::move(fn)](auto&&... args)
        { return this->submit(fn, std::forward<decltype(args)>(args)...); };
        return detail::map_range<decltype(submit_one), Rs...>(std::move(submit_one), opts,
                                                              std::forward<Rs>(inputs)...);
    }

    void enqueue(std::shared_ptr<detail::work_item> item);
    void start_thread_locked();
    void wake_one_if_needed() noexcept;
    void worker(std::size_t index);
    std::shared_ptr<detail::work_item> next_item();
    void break_pool();
    static void validate(const map_options& opts);

    int m_max_workers;
    std::string m_name_prefix;
    std::function<void()> m_initializer;

    std::mutex m_mutex; // guards everything below that is not atomic
    std::deque<std::shared_ptr<detail::work_item>> m_queue;
    std::vector<std::thread> m_threads;
    std::vector<std::thread::id> m_thread_ids;
    bool m_shutdown = false;
    std::exception_ptr m_broken; // set once an initializer failed

    // Idle threads, counted as Python's idle semaphore: a submit that takes a token reuses an
    // idle thread instead of starting one.
    std::atomic<int> m_idle_tokens{0};
    std::atomic<std::size_t> m_queued{0};     // m_queue.size(), readable without the lock
    std::atomic<std::uint32_t> m_wake_seq{0}; // futex word idle threads sleep on
    std::atomic<int> m_sleepers{0};
    std::atomic<int> m_spinners{0};    // at most one idle thread spins
    std::atomic<bool> m_waking{false}; // a sleeper was woken and has not run yet
    std::mutex m_join_mutex;           // one joiner at a time
};

} // namespace weft
