#pragma once

#include <chrono>
#include <concepts>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>

#include <sys/types.h>

#include "executors/threads/detail/deadline.hpp"

namespace weft
{

namespace detail
{
struct thread_state;

// A move-only void() callable (std::function needs copyable targets; std::move_only_function
// is C++23).
class thread_body
{
  public:
    thread_body() = default;
    template <class Fn>
    explicit thread_body(Fn fn) : m_impl(std::make_unique<impl<Fn>>(std::move(fn)))
    {
    }
    explicit operator bool() const noexcept { return m_impl != nullptr; }
    void operator()() { m_impl->call(); }

  private:
    struct base
    {
        virtual ~base() = default;
        virtual void call() = 0;
    };
    template <class Fn>
    struct impl final : base
    {
        explicit impl(Fn f) : fn(std::move(f)) {}
        void call() override { fn(); }
        Fn fn;
    };
    std::unique_ptr<base> m_impl;
};
} // namespace detail

/// Python's threading.Thread: an OS thread with a name and a daemon flag that runs a target
/// with arguments (decay-copied, as std::thread does; pass std::ref to share), or the run()
/// of a subclass, once start() is called.
///
/// Name: options.name, or "Thread-N" (N counts the threads made so far, from 1). Inside the
/// thread, current_thread_name() returns it; the OS sees its first 15 bytes
/// (pthread_setname_np), so ps, top and debuggers show it.
///
/// Daemon, in C++ terms: Python waits at exit for every non-daemon thread and abandons daemon
/// threads. Here the destructor of a started, unjoined thread joins it when it is not a daemon,
/// and detaches it when it is: a daemon thread keeps running on its own and is cut off when the
/// process exits, so it must not touch anything that may be destroyed before it finishes.
///
/// An exception escaping the target or run() ends the thread and is reported on stderr
/// ("Exception in thread NAME: WHAT"), as Python's threading.excepthook does; it does not
/// terminate the process.
///
/// Subclasses (Python's "override run()" style): construct the base without a target and
/// override run(). The base destructor runs after the subclass's members are gone, so a
/// subclass whose run() uses them must join() in its own destructor; a daemon subclass must
/// outlive its run().
///
/// Timeouts: join() without a timeout, or with a negative one, waits forever; steady clock.
///
/// Threading: start() once from one thread; the observers and join() from any thread.
/// Immovable (a running subclass's run() holds `this`).
class thread
{
  public:
    /// Designated-initialiser options: `{.name = "worker", .daemon = true}`.
    struct options
    {
        std::string name = {}; ///< empty: "Thread-N"
        bool daemon = false;   ///< detach instead of join at destruction
    };

    /// A thread that runs run(), for subclasses that override it.
    thread() : thread(options{}) {}
    explicit thread(options opts);

    /// A thread that runs target(args...) (decay-copied).
    template <class Target, class... Args>
    requires std::invocable<std::decay_t<Target>, std::decay_t<Args>...>
    explicit thread(Target&& target, Args&&... args)
        : thread(options{}, std::forward<Target>(target), std::forward<Args>(args)...)
    {
    }

    /// A named (or daemon) thread that runs target(args...).
    template <class Target, class... Args>
    requires std::invocable<std::decay_t<Target>, std::decay_t<Args>...>
    thread(options opts, Target&& target, Args&&... args) : thread(std::move(opts))
    {
        m_target = detail::thread_body(
            [fn = std::decay_t<Target>(std::forward<Target>(target)),
             arguments = std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...)]() mutable
            { std::apply(std::move(fn), std::move(arguments)); });
    }

    thread(const thread&) = delete;
    thread& operator=(const thread&) = delete;
    /// Joins a started, unjoined non-daemon thread; detaches a daemon one.
    virtual ~thread();

    /// Starts the thread and returns once it is running (ident() and native_id() are set).
    /// Throws weft::invalid_state_error("threads can only be started once") on a second call,
    /// and std::system_error when the OS refuses a thread.
    void start();

    /// Blocks until the thread finishes. Throws weft::invalid_state_error before start() and
    /// when a thread joins itself.
    void join() { (void)join_until(detail::deadline::never()); }

    /// Blocks at most `timeout` (negative: forever); returns true if the thread finished
    /// (is_alive() is then false), false if it is still running. Same errors as join().
    template <class Rep, class Period>
    bool join(std::chrono::duration<Rep, Period> timeout)
    {
        return join_until(detail::deadline::after(timeout));
    }

    /// True from start() until the target or run() returns.
    [[nodiscard]] bool is_alive() const;
    /// The thread's std::thread::id once started; std::thread::id() before.
    [[nodiscard]] std::thread::id ident() const;
    /// The kernel's thread id (gettid) once started; 0 before (Python's native_id).
    [[nodiscard]] pid_t native_id() const;
    [[nodiscard]] const std::string& name() const noexcept;
    [[nodiscard]] bool daemon() const noexcept { return m_daemon; }

  protected:
    /// What the thread runs when no target was given; the default does nothing.
    virtual void run() {}

  private:
    bool join_until(detail::deadline when);

    std::shared_ptr<detail::thread_state> m_state; // shared with the OS thread
    detail::thread_body m_target;                  // moved into the OS thread by start()
    // Guards m_thread and m_started: std::thread::join() from two threads at once is
    // undefined, and join() may race with start() on another thread.
    mutable std::mutex m_mutex;
    std::thread m_thread;
    bool m_started = false;
    bool m_daemon;
};

/// The name of the calling thread: a weft::thread's (or weft::timer's) name, "MainThread" on
/// the process's initial thread, the name given to set_current_thread_name(), or else the OS
/// thread name.
[[nodiscard]] std::string current_thread_name();

/// Names the calling thread for current_thread_name() and, truncated to 15 bytes, for the OS.
/// For threads weft did not create (a pool's workers, say).
void set_current_thread_name(std::string name);

} // namespace weft
