#pragma once
// Where children are created. The parent-death signal fires when the *thread* that created a
// child exits, so a child started from a short-lived thread would be killed with it: every
// child is created on the main thread or on weft's launcher thread, which lives until exit.

#include <functional>

#include "executors/processes/detail/launch.hpp"

namespace weft::detail
{

/// Runs `create` (which starts a child) on a thread that lives as long as the process: right
/// here on the main thread, else on the launcher thread (started on first need), blocking the
/// caller until it is done. Returns what `create` returns and rethrows what it throws.
[[nodiscard]] child_handle on_long_lived_thread(const std::function<child_handle()>& create);

} // namespace weft::detail
