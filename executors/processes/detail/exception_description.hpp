#pragma once
// The exception a child process caught, in words: what a process reports on stderr and what a
// pool worker sends back for its task (the parent sees the type's name, not the type).

#include <string>

namespace weft::detail
{

struct exception_description
{
    std::string type_name; // demangled ("std::runtime_error", "int"); "unknown" without one
    std::string what;      // what(), or "(not a std::exception)"
    // The nearest standard exception type it derives from or is ("std::invalid_argument"), ""
    // when it is no std::exception; for a std::system_error, its code's value and category.
    std::string standard_base;
    int code = 0;
    std::string category;
    // Where it was thrown, a line per frame, when the thread was recording (throw_sites.hpp).
    std::string backtrace;
};

/// Describes the exception being handled: call it inside a catch block.
[[nodiscard]] exception_description describe_current_exception();

} // namespace weft::detail
