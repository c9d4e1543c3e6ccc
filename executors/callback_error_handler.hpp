#pragma once
// Where an exception thrown by a future's done-callback goes. Python logs it and runs the
// remaining callbacks; weft does the same, printing to stderr unless a handler is set.

#include <exception>
#include <functional>

namespace weft
{

/// Replaces the process-wide receiver of exceptions escaping done-callbacks; an empty function
/// restores the default (print what() to stderr). Thread-safe.
void set_callback_error_handler(std::function<void(std::exception_ptr)> handler);

} // namespace weft
