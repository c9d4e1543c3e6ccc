#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <vector>

#include "runtime/detail/cancellable.hpp"
#include "runtime/detail/io_request.hpp"
#include "runtime/detail/timer_heap.hpp"
#include "runtime/task.hpp"
#include "runtime/uring/ring.hpp"

namespace weft
{
class event_loop;

namespace detail
{
/// The loop running on this thread (event_loop::current()). Initial-exec: one load from the
/// thread pointer, also in the library's position-independent objects.
[[gnu::tls_model("initial-exec")]] inline thread_local constinit event_loop* current_loop = nullptr;
} // namespace detail

/// One io_uring, one thread: runs coroutines cooperatively and resumes them when their I/O,
/// timers or cross-thread wake-ups complete.
///
/// Threading: run(), spawn() and every await belong to the thread running the loop. post() and
/// stop() may be called from any thread. A loop is neither copyable nor movable, since the
/// kernel and other threads hold pointers into it.
///
/// Before run(): spawn() and post() queue their work; it starts when run() is first called.
/// After stop(): every pending and later await of every task on the loop throws
/// operation_cancelled; run() returns once its task has unwound; later run() and spawn()
/// throw invalid_state_error and post() returns false without running anything.
class event_loop
{
  public:
    struct options
    {
        /// Submission queue size; the completion queue is four times larger.
        unsigned entries = 4096;
    };

    /// Throws uring_unavailable, naming the cause and the fix, when io_uring cannot be set up.
    event_loop() : event_loop(options{}) {}
    explicit event_loop(options opts);
    /// Cancels every operation still in the kernel, waits for the kernel to let go of them, and
    /// destroys spawned tasks that have not finished.
    ~event_loop();
    event_loop(const event_loop&) = delete;
    event_loop& operator=(const event_loop&) = delete;

    /// Runs `t` (and everything spawned) until `t` finishes; returns its value or rethrows its
    /// exception. Spawned tasks still pending when `t` finishes are kept for the next run().
    template <class T>
    T run(task<T> t);

    /// Starts `t` on this loop without waiting for it. An exception escaping it (other than
    /// operation_cancelled) goes to the unhandled-exception handler; use task_group when the
    /// caller must see it.
    void spawn(task<void> t);

    /// Runs turns of this loop on the calling thread until `done()` is true: for code already
    /// running on the loop thread that must wait without suspending (~task_group). Other tasks
    /// run meanwhile; the caller's own coroutine does not. Throws invalid_state_error unless
    /// this loop is running on the calling thread.
    void run_until(const std::function<bool()>& done);

    /// Runs `fn` on the loop thread soon. Thread-safe; wakes a sleeping loop through an eventfd.
    /// Returns false, without running `fn`, once the loop is stopped.
    bool post(std::function<void()> fn);

    /// Cancels every await on the loop (see the class comment). Thread-safe and idempotent.
    void stop() noexcept;
    [[nodiscard]] bool stopped() const noexcept { return m_stop_source.stop_requested(); }

    /// The token given to tasks that run() and spawn() start.
    [[nodiscard]] std::stop_token stop_token() const noexcept { return m_stop_source.get_token(); }

    /// Receives exceptions escaping spawned tasks; the default prints them to stderr.
    void set_unhandled_exception_handler(std::function<void(std::exception_ptr)> handler);

    /// The loop running on this thread, or nullptr.
    [[nodiscard]] static event_loop* current() noexcept { return detail::current_loop; }

    /// The loop running on this thread; throws invalid_state_error when there is none.
    [[nodiscard]] static event_loop& require_current(const char* what)
    {
        event_loop* const loop = detail::current_loop;
        if (loop == nullptr) [[unlikely]]
        {
            throw_no_current(what);
        }
        return *loop;
    }

    // ---- For awaitable authors (everything in runtime/ uses these) ----

    /// A submission slot; it is submitted at the loop's next turn.
    [[nodiscard]] io_uring_sqe* get_sqe() { return m_ring.get_sqe(); }
    /// Counts operations the kernel holds, so that teardown knows what to wait for.
    void note_submitted() noexcept { ++m_in_flight; }
    /// Queues `h` to be resumed at the loop's next turn (loop thread only).
    void schedule(std::coroutine_handle<> h) { m_ready.push_back(h); }
    /// True when `token` is this loop's own token (stop_token()). An await that observes it
    /// need not register a stop callback when the loop can cancel it by itself on stop (see
    /// timer_node::stop_with_loop).
    [[nodiscard]] bool is_own_token(const std::stop_token& token) const noexcept
    {
        return token == m_token;
    }
    /// Called on the loop thread by an await that found the loop's own token stopped: a stop()
    /// from another thread sets the token before its wake-up reaches the loop, so whoever sees
    /// it first cancels the stop_with_loop timers (once), and every task on the loop observes
    /// the stop in the same order.
    void observe_stop() noexcept;
    void add_timer(detail::timer_node& node, std::chrono::steady_clock::time_point deadline)
    {
        m_timers.push(node, deadline);
    }
    void remove_timer(detail::timer_node& node) noexcept
    {
        if (node.queued())
        {
            m_timers.erase(node);
        }
    }
    /// Called by a stop callback on any thread: runs target.cancel() on the loop thread.
    void request_cancel(detail::cancellable& target) noexcept;
    /// Called on the loop thread once `target`'s stop callback is destroyed.
    void forget_cancel(detail::cancellable& target) noexcept
    {
        if (target.m_remote_queued.load(std::memory_order_acquire))
        {
            drop_remote_cancel(target);
        }
    }
    /// Hands an exception nobody can receive to the unhandled-exception handler.
    void report_unhandled(std::exception_ptr error) noexcept;

    /// Called by io_request completions (loop thread only).
    void note_completed() noexcept { --m_in_flight; }

  private:
    template <class T>
    struct run_result
    {
        std::optional<T> value;
        std::exception_ptr error;
    };

    template <class T>
    static task<void> root(task<T> t, run_result<T>& out)
    {
        try
        {
            out.value.emplace(co_await std::move(t));
        }
        catch (...)
        {
            out.error = std::current_exception();
        }
    }

    static task<void> root(task<void> t, std::exception_ptr& error);
    static task<void> bridged(task<void> t);
    [[noreturn]] static void throw_no_current(const char* what);

    void run_root(task<void>& root_task);
    void run_once(const std::function<bool()>& done);
    void arm_wakeup();
    void wake() noexcept;
    void on_wakeup();
    void run_posted();
    void fire_timers();
    void drop_remote_cancel(detail::cancellable& target) noexcept;
    void on_stop() noexcept;
    void cancel_timers_on_stop() noexcept;

    struct stop_forwarder
    {
        event_loop* loop;
        void operator()() const noexcept { loop->on_stop(); }
    };

    uring::ring m_ring;
    std::deque<std::coroutine_handle<>> m_ready;
    detail::timer_heap m_timers;
    std::stop_source m_stop_source;
    std::stop_token m_token; // m_stop_source's, kept for is_own_token
    std::size_t m_in_flight = 0;
    unsigned m_busy_turns = 0; // turns in a row that found work ready and did not enter the kernel
    bool m_running = false;
    bool m_closing = false;
    bool m_stop_observed = false; // loop thread only: the stop_with_loop timers were cancelled
    detail::spawn_link m_spawned; // sentinel of the spawned-task list

    int m_wake_fd = -1;
    std::uint64_t m_wake_buffer = 0;
    struct wake_request : detail::io_request
    {
        event_loop* loop = nullptr;
    };
    wake_request m_wake_request;
    bool m_wake_fired = false;
    std::atomic<bool> m_notified{false};

    std::mutex m_remote_mutex; // guards the three members below
    std::vector<std::function<void()>> m_posted;
    std::vector<detail::cancellable*> m_remote_cancels;
    bool m_stop_pending = false; // stop() was called off the loop thread: sweep the timers

    // Declared after everything on_stop() touches, so that it is unregistered first.
    std::optional<std::stop_callback<stop_forwarder>> m_on_stop;

    std::function<void(std::exception_ptr)> m_unhandled;
};

template <class T>
T event_loop::run(task<T> t)
{
    if constexpr (std::is_void_v<T>)
    {
        std::exception_ptr error;
        task<void> r = root(std::move(t), error);
        run_root(r);
        if (error)
        {
            std::rethrow_exception(error);
        }
    }
    else if constexpr (std::is_reference_v<T>)
    {
        using pointer = std::remove_reference_t<T>*;
        run_result<pointer> out;
        task<void> r = [](task<T> inner, run_result<pointer>& result) -> task<void>
        {
            try
            {
                result.value.emplace(&(co_await std::move(inner)));
            }
            catch (...)
            {
                result.error = std::current_exception();
            }
        }(std::move(t), out);
        run_root(r);
        if (out.error)
        {
            std::rethrow_exception(out.error);
        }
        return **out.value;
    }
    else
    {
        run_result<T> out;
        task<void> r = root(std::move(t), out);
        run_root(r);
        if (out.error)
        {
            std::rethrow_exception(out.error);
        }
        return std::move(*out.value);
    }
}

} // namespace weft
