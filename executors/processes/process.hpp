#pragma once

#include <chrono>
#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "executors/processes/detail/payload.hpp"
#include "executors/processes/shippable.hpp"
#include "executors/processes/start_method.hpp"
#include "executors/threads/detail/deadline.hpp"
#include "runtime/task.hpp"

namespace weft
{
namespace detail
{

// The target and its arguments, kept until start(): run in place by a forked child, or
// encoded for a spawned or forkserver one.
class process_target
{
  public:
    virtual ~process_target() = default;
    virtual void run_here() = 0;
    /// The payload; the shared memory among the arguments goes into `attached`.
    [[nodiscard]] virtual std::string encode(const std::string& name, bool daemon,
                                             attachments& attached) const = 0;
};

template <class F, class... Args>
class process_target_of final : public process_target
{
  public:
    template <class Fn, class... As>
    explicit process_target_of(Fn&& fn, As&&... args)
        : m_fn(std::forward<Fn>(fn)), m_args(std::forward<As>(args)...)
    {
    }
    void run_here() override { std::apply(m_fn, std::move(m_args)); }
    [[nodiscard]] std::string encode(const std::string& name, bool daemon,
                                     attachments& attached) const override
    {
        return encode_call(m_fn, m_args, name, daemon, &attached);
    }

  private:
    F m_fn;
    std::tuple<Args...> m_args;
};

struct process_state;

} // namespace detail

/// Python's multiprocessing.Process: runs target(args...) in a child process.
///
/// The target is a free function or a captureless lambda, and every argument is shippable
/// (shippable.hpp): checked at compile time, under every start method, so that a program that
/// works with fork keeps working with spawn. Arguments are copied at construction and sent at
/// start(): a forked child uses the copies it inherited; a spawned or forkserver child receives
/// them serialized and finds the target in its own copy of the executable.
///
/// In the child: current_process_name() is the process's name. The child exits with 0 when the
/// target returns, and with 1 when it throws (after printing "Process NAME: TYPE: WHAT" to
/// stderr, as Python prints the traceback). A forked child leaves with _Exit after flushing
/// stdio, so the parent's atexit handlers and static destructors do not run twice; a target
/// that calls std::exit(n) leaves the same way, with n.
///
/// Every child dies with its parent (PR_SET_PDEATHSIG, SIGKILL), even one that is not a daemon:
/// a parent that crashes leaves no orphans. Children are reaped through a pidfd as soon as they
/// exit, by a thread of weft's, never left as zombies while their process objects wait to be
/// joined; the exit status is kept for exitcode().
///
/// Destruction: a started, unreaped non-daemon process is joined (Python joins those at exit);
/// a daemon process is terminated (SIGTERM, then SIGKILL after a second) and reaped. The
/// program's exit does the same for the objects it never destroys (std::exit, a leak).
///
/// Threading: start() from one thread; the observers, join() and the signals from any thread
/// of the process that started it. Another process (a fork child holding a copy of the object)
/// gets invalid_state_error from join(), is_alive(), exitcode(), the signals and close(), as
/// Python's "can only join a child process".
///
/// Movable; a moved-from process may only be destroyed or assigned to.
class process
{
  public:
    /// Designated-initialiser options: `{.name = "worker", .daemon = true}`.
    struct options
    {
        std::string name = {};                               ///< empty: "Process-N"
        bool daemon = false;                                 ///< terminated when destroyed
        std::optional<weft::start_method> start_method = {}; ///< empty: get_start_method()
    };

    /// A process that will run target(args...).
    template <class Target, class... Args>
    requires(!std::same_as<std::decay_t<Target>, options>) explicit process(Target&& target,
                                                                            Args&&... args)
        : process(options{}, std::forward<Target>(target), std::forward<Args>(args)...)
    {
    }

    /// A named, daemon, or explicitly started process that will run target(args...).
    template <class Target, class... Args>
    process(options opts, Target&& target, Args&&... args)
        : process(std::move(opts), make_target<std::decay_t<Target>, std::decay_t<Args>...>(
                                       std::forward<Target>(target), std::forward<Args>(args)...))
    {
    }

    process(process&&) noexcept;
    process& operator=(process&&) noexcept;
    process(const process&) = delete;
    process& operator=(const process&) = delete;
    ~process();

    /// Starts the child. Throws weft::invalid_state_error when called twice ("processes can
    /// only be started once"), after close(), in a daemon child, or for spawn/forkserver
    /// without weft::main_guard; std::system_error when the OS refuses.
    void start();

    /// Blocks until the child exits. Throws weft::invalid_state_error before start().
    void join() { (void)join_until(detail::deadline::never()); }

    /// Blocks at most `timeout` (negative: forever); true once the child has exited.
    template <class Rep, class Period>
    bool join(std::chrono::duration<Rep, Period> timeout)
    {
        return join_until(detail::deadline::after(timeout));
    }

    /// join() for a coroutine: suspends the calling task until the child exits, without
    /// blocking its event_loop (an io_uring poll on the child's pidfd). Stopping the task's
    /// token throws operation_cancelled and leaves the child running. Same errors as join().
    [[nodiscard]] task<void> async_join();

    /// True from start() until the child exits (and is reaped by this call if it has).
    [[nodiscard]] bool is_alive();

    /// Empty while the child runs (or before start()); then 0, the exit status, or minus the
    /// number of the signal that killed it.
    [[nodiscard]] std::optional<int> exitcode();

    /// The child's pid once started.
    [[nodiscard]] std::optional<pid_t> pid() const;

    /// Sends SIGTERM / SIGKILL. No effect once the child has exited. Throws
    /// weft::invalid_state_error before start().
    void terminate();
    void kill();

    /// Releases the process's resources. Throws weft::invalid_state_error while the child is
    /// still running; afterwards every method but name(), daemon() and the destructor throws.
    void close();

    [[nodiscard]] const std::string& name() const;
    [[nodiscard]] bool daemon() const;
    [[nodiscard]] weft::start_method start_method() const;

  private:
    process(options opts, std::unique_ptr<detail::process_target> target);

    template <class F, class... Args, class Target, class... As>
    static std::unique_ptr<detail::process_target> make_target(Target&& target, As&&... args)
    {
        static_assert(detail::check_shippable_function<F>());
        static_assert((detail::check_shippable_argument<Args>() && ...));
        static_assert(std::is_invocable_v<F, Args&&...>,
                      "weft::process: the target cannot be called with these arguments");
        return std::make_unique<detail::process_target_of<F, Args...>>(std::forward<Target>(target),
                                                                       std::forward<As>(args)...);
    }

    bool join_until(detail::deadline until);
    void send_signal(int signal);

    std::unique_ptr<detail::process_state> m_state;
};

/// A child that active_children() found running.
struct active_child
{
    std::string name;
    pid_t pid = 0;
};

/// Python's multiprocessing.active_children(): the children this process started with
/// weft::process that are still running (pool workers are the pools' own), in no particular
/// order. Those found finished are reaped first, though weft reaps them anyway as they exit.
[[nodiscard]] std::vector<active_child> active_children();

} // namespace weft
