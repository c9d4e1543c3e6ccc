#pragma once

#include <string>

namespace weft
{

/// Python's `if __name__ == "__main__":` for C++. Call it first thing in main:
///
///     int main(int argc, char** argv)
///     {
///         weft::main_guard(argc, argv);
///         ...
///     }
///
/// In the program the user started it records argv and returns at once. In a process that
/// weft started with start_method::spawn, or in weft's fork server, it never returns: it runs
/// what the parent sent (the target of a process, the server loop) and exits. Code above the
/// call runs in every child as well, as module-level code does in Python; keep it free of side
/// effects. Without the call, starting a spawn or forkserver process throws
/// weft::invalid_state_error instead of running a second copy of main.
void main_guard(int argc, char** argv);

/// The name of the process this code runs in: "MainProcess" in the program the user started,
/// the process's name (options.name, or "Process-N") inside a child weft started.
[[nodiscard]] const std::string& current_process_name() noexcept;

} // namespace weft
