#pragma once
// The children weft::process started that are not reaped yet. A reaper thread reaps each one as
// soon as it exits, so that a finished child never lingers as a zombie while nobody joins or
// polls its process object; the exit status waits in the child's record for the object.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "executors/processes/detail/launch.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

/// One started child, shared by its process object and the registry: whichever reaps it first
/// keeps the exit status here for the other.
class child_record
{
  public:
    /// `listed`: whether active_children() and the exit handler see it (not weft's own fork
    /// server, which its client stops).
    child_record(child_handle child, std::string name, bool daemon, bool listed = true) noexcept
        : m_pid(child.pid), m_pidfd(std::move(child.pidfd)), m_name(std::move(name)),
          m_daemon(daemon), m_listed(listed)
    {
    }

    [[nodiscard]] pid_t pid() const noexcept { return m_pid; }
    /// Open, even once reaped, until release_child(): a joiner may be polling it.
    [[nodiscard]] int pidfd() const noexcept { return m_pidfd.get(); }
    [[nodiscard]] const std::string& name() const noexcept { return m_name; }
    [[nodiscard]] bool daemon() const noexcept { return m_daemon; }
    [[nodiscard]] bool listed() const noexcept { return m_listed; }

    /// Reaps the child if it has exited (never waits). Empty while it runs; then 0, its exit
    /// status, or minus the signal that killed it. Throws std::system_error if waitid fails.
    std::optional<int> poll();

    /// Sends `signal` unless the child is reaped already (its pid may be another's by then).
    void signal(int signal) noexcept;

    /// Waits at most `timeout_ms` (negative: forever) for the child to exit, and reaps it;
    /// true once it has. Never throws: it runs as the program exits.
    bool wait_for_exit(int timeout_ms) noexcept;

    /// The registry's number for the record (0: none), guarded by the registry's lock.
    std::uint64_t registry_id = 0;

  private:
    friend void release_child(const std::shared_ptr<child_record>& child) noexcept;

    const pid_t m_pid;
    uring::owned_fd m_pidfd;
    const std::string m_name;
    const bool m_daemon;
    const bool m_listed;
    std::mutex m_mutex; // guards m_exitcode and the pidfd's closing; a child is reaped once
    std::optional<int> m_exitcode;
};

/// Starts the reaper thread unless it runs: called before a child is created, so that a failure
/// (std::system_error, or std::bad_alloc) leaves no child behind.
void start_reaper();

/// Hands a started child to the reaper thread, which reaps it when it exits. Where the kernel
/// refuses to watch one more pidfd (ENOMEM, ENOSPC), that child is reaped only by its process
/// object, as it joins, polls or is destroyed.
void register_child(std::shared_ptr<child_record> child) noexcept;

/// For a process object done with its reaped child (closed or destroyed): takes the child out of
/// the registry and closes its pidfd now, not whenever the reaper thread next looks, so that
/// the descriptor goes with the object as it did before the registry. No effect on a child not
/// reaped yet: the reaper thread still reaps it.
void release_child(const std::shared_ptr<child_record>& child) noexcept;

/// The registered children still running, listed ones only; those found finished are reaped
/// first.
[[nodiscard]] std::vector<std::shared_ptr<child_record>> running_children();

/// What Python's exit handler does, for the program's exit (registered with std::atexit when
/// the first child starts) and a forked child's: terminates the daemon children still running
/// (SIGTERM, then SIGKILL a second later), and waits for the others to finish. Children of
/// another process (a fork's copies of its parent's records) are not this one's to wait for.
void finish_children_at_exit() noexcept;

/// Whether this process has a reaper thread. It holds no lock a forked child needs (a fork
/// forgets the registry), so it does not count as a thread that makes fork unsafe.
[[nodiscard]] bool reaper_started() noexcept;

} // namespace weft::detail
