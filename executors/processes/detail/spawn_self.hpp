#pragma once
// Running this program again as a child (start_method::spawn, and the fork server): clone with
// CLONE_VM | CLONE_VFORK and exec /proc/self/exe, what posix_spawn does, with two steps of our
// own in between (descriptors to pass, parent-death signal).

#include <span>
#include <string>

#include "executors/processes/detail/launch.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

/// Re-executes this program with main_guard()'s argv and `variable` (NAME=fd) added to the
/// environment, `keep_fd` and `extra_fds` inherited (the latter named in WEFT_EXTRA_FDS), and
/// weft's other variables removed. Call it through on_long_lived_thread(): the child's
/// parent-death signal belongs to the calling thread. `ignore_interrupts`: the child starts with
/// SIGINT ignored (an ignored signal stays ignored across execve), so that a Ctrl-C meant for
/// the parent cannot end a pool worker or the fork server while it is still starting.
[[nodiscard]] child_handle spawn_self(const std::string& variable, int keep_fd,
                                      std::span<const int> extra_fds = {},
                                      bool ignore_interrupts = false);

/// A close-on-exec memfd holding `payload`: how a spawned or forkserver child receives it.
[[nodiscard]] uring::owned_fd payload_memfd(const std::string& payload);

/// Waits for the child behind `pidfd` to exit and reaps it.
void reap_now(int pidfd) noexcept;

} // namespace weft::detail
