#pragma once
// Creating child processes: the three start methods, and what a child does with a payload.
// Implemented by spawn_self.cpp (spawn), forkserver_client.cpp and forkserver.cpp (forkserver),
// fork_and_run.cpp (fork), launcher_thread.cpp, child_main.cpp (the child's side) and
// ../main_guard.cpp.

#include <functional>
#include <span>
#include <string>
#include <vector>

#include <sys/types.h>

#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

/// A started child: its pid and a pidfd for waiting and signalling without pid reuse races.
/// Always a child of this process (forkserver children too: the server forks them with
/// CLONE_PARENT), so this process reaps it with waitid(P_PIDFD).
struct child_handle
{
    pid_t pid = 0;
    uring::owned_fd pidfd;
};

/// The most descriptors a child can be handed besides its payload (SCM_RIGHTS carries 253 at
/// most, the payload's included).
inline constexpr std::size_t max_extra_fds = 250;

/// Runs /proc/self/exe with the original argv; the child's main_guard() runs `payload`.
/// `extra_fds` are inherited by the child, which finds them with inherited_fds().
/// `ignore_interrupts`: SIGINT is ignored from the child's first instruction (pool workers).
[[nodiscard]] child_handle spawn_payload(const std::string& payload,
                                         std::span<const int> extra_fds = {},
                                         bool ignore_interrupts = false);

/// Asks the fork server (started on first use) to fork a child that runs `payload`.
/// `extra_fds` travel to the server with the payload (SCM_RIGHTS) and are the child's
/// inherited_fds().
[[nodiscard]] child_handle forkserver_payload(const std::string& payload,
                                              std::span<const int> extra_fds = {});

/// In a spawned or forkserver child: the descriptors its parent passed as `extra_fds`, in the
/// same order (their numbers differ from the parent's). Empty anywhere else.
[[nodiscard]] const std::vector<int>& inherited_fds() noexcept;

/// fork(): the child runs `body` with the given identity and exits with 0, or with 1 when
/// `body` throws (the error is printed to stderr as "Process NAME: TYPE: WHAT").
[[nodiscard]] child_handle fork_and_run(const std::function<void()>& body, const std::string& name,
                                        bool daemon);

/// Ways a fork server may find glibc's cached thread id, which its children's TID must be
/// written to (see raw_clone.hpp, glibc_thread_identity).
enum class tid_field_lookup
{
    any,           // PR_GET_TID_ADDRESS, else glibc's description of its thread block
    without_prctl, // as on a kernel without PR_GET_TID_ADDRESS (no CONFIG_CHECKPOINT_RESTORE)
    none,          // as if both were missing: the server refuses to fork
};

/// For tests: fork servers this process starts from now on behave as if only the ways `how`
/// names were there (an environment variable tells the spawned server). Servers already
/// running are not affected; a forked child starts its own.
void set_forkserver_tid_lookup_for_testing(tid_field_lookup how);

/// Whether weft's launcher thread exists (it starts children for threads other than main).
[[nodiscard]] bool launcher_started() noexcept;

/// Prints, once per process, a warning on stderr when a fork would copy a process in which
/// threads other than weft's own run (the seeds' held-lock hang): process::start() and a
/// process pool's constructor call it for start_method::fork.
void warn_if_threaded_fork();

/// Whether main_guard() ran in this process (spawn and forkserver need it).
[[nodiscard]] bool main_guard_called() noexcept;

/// The argv main_guard() recorded: what spawn runs this program again with.
[[nodiscard]] const std::vector<std::string>& main_guard_argv() noexcept;

/// True in a child weft started as a daemon process: it may not start children.
[[nodiscard]] bool in_daemon_process() noexcept;

/// Throws weft::invalid_state_error when this process cannot start children with `method`
/// (no main_guard for spawn/forkserver; a daemon process; a spawned child that never reached
/// main_guard, which would otherwise start copies of itself).
void check_can_start(bool needs_main_guard);

} // namespace weft::detail
