#pragma once

#include <optional>

namespace weft
{

/// How a process is created (Python's multiprocessing start methods).
/// - fork: the child is a copy of the parent at start(): it sees the parent's memory and open
///   files, but only the thread that called start(), and any lock another thread held at that
///   moment stays locked in the child forever (the classic fork hang). Fastest to start.
/// - spawn: the child is a fresh run of this executable (/proc/self/exe) that receives the
///   target and its arguments and runs them inside weft::main_guard(). Nothing but the
///   arguments is inherited: no threads, no locks, no state changed after startup.
/// - forkserver (the default): a single-threaded server, itself a fresh run of this executable,
///   is spawned on first use; every later child is forked from it, so it starts as cleanly as
///   spawn and nearly as fast as fork.
/// spawn and forkserver need weft::main_guard(argc, argv) at the top of main.
enum class start_method
{
    fork,
    spawn,
    forkserver,
};

/// Sets the process-wide default start method. As in Python, it may be set once: a second
/// call throws weft::invalid_state_error ("the start method has already been set") unless
/// `force` is true.
void set_start_method(start_method method, bool force = false);

/// The process-wide default: what set_start_method set, or start_method::forkserver.
[[nodiscard]] start_method get_start_method() noexcept;

/// "fork", "spawn" or "forkserver".
[[nodiscard]] const char* to_string(start_method method) noexcept;

} // namespace weft
