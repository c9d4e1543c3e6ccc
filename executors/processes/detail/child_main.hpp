#pragma once
// What a child weft started does around its target, under every start method: dies with its
// parent, takes the name and daemon flag it was given, runs a payload, and reports the
// target's exception as Python prints a traceback.

#include <string>
#include <vector>

#include <sys/types.h>

namespace weft::detail
{

/// Makes this process the child named `name` (current_process_name()); a daemon may not start
/// children (in_daemon_process()).
void take_process_identity(const std::string& name, bool daemon);

/// Records the descriptors inherited_fds() returns.
void set_inherited_fds(std::vector<int> fds);

/// SIGKILL when the thread that created this process exits (weft creates every child on a
/// thread that lives as long as the process), and _Exit(1) at once if `parent` is already gone.
void die_with_parent(pid_t parent);

/// Inside a catch block: prints "Process NAME: TYPE: WHAT" to stderr, Python's traceback.
void report_exception(const std::string& name);

/// Prints "weft: WHAT: DETAIL" to stderr and exits with 1: a child that cannot run what its
/// parent sent.
[[noreturn]] void fail_child(const char* what, const std::string& detail);

/// In a spawned or forkserver child: reads the payload from `fd` (a memfd), runs it, and exits
/// with 0, or with 1 when the target throws. A pool worker's payload ignores SIGINT; with
/// `restore_interrupts` (a fork server's child, which inherited the server's SIG_IGN) any other
/// payload gets SIGINT's default action back, as Python's forkserver restores it.
[[noreturn]] void run_payload_and_exit(int fd, pid_t parent, bool restore_interrupts = false);

} // namespace weft::detail
