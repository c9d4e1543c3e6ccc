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
};

/// Describes the exception being handled: call it inside a catch block.
[[nodiscard]] exception_description describe_current_exception();

} // namespace weft::detail
