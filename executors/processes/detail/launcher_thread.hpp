#pragma once
// Where children are created. The parent-death signal fires when the *thread* that created a
// child exits, so a child started from a short-lived thread would be killed with it: every
// child is created on the main thread or on weft's launcher thread, which lives until exit.

#include <functional>
#include <signal.h>

#include "executors/processes/detail/launch.hpp"

namespace weft::detail
{

/// Runs `create` (which starts a child) on a thread that lives as long as the process: right
/// here on the main thread, else on the launcher thread (started on first need), blocking the
/// caller until it is done. Returns what `create` returns and rethrows what it throws.
/// The launcher thread blocks asynchronous signals (thread_without_signals.hpp); a child starts
/// with the mask of the thread that asked for it instead, as if forked from there.
[[nodiscard]] child_handle on_long_lived_thread(const std::function<child_handle()>& create);

/// Inside a `create` run by on_long_lived_thread: the signal mask the child must start with
/// (the asking thread's, or the one a child_signal_mask_scope on it names).
[[nodiscard]] const sigset_t& child_signal_mask() noexcept;

/// While alive, children this thread asks for start with `mask` rather than this thread's own:
/// a process pool's collector, which blocks asynchronous signals, starts a replacement with the
/// mask of the thread that made the pool.
class child_signal_mask_scope
{
  public:
    explicit child_signal_mask_scope(const sigset_t& mask) noexcept;
    ~child_signal_mask_scope();
    child_signal_mask_scope(const child_signal_mask_scope&) = delete;
    child_signal_mask_scope& operator=(const child_signal_mask_scope&) = delete;

  private:
    const sigset_t* m_before;
};

} // namespace weft::detail
