#pragma once
// Readable C++ names for what the ABI gives mangled: exception types and symbol-table entries.

#include <string>

namespace weft::detail
{

/// `mangled` demangled ("std::runtime_error" for "St13runtime_error"); `mangled` itself when
/// the demangler does not take it (a C symbol, say).
[[nodiscard]] std::string demangle(const char* mangled);

} // namespace weft::detail
