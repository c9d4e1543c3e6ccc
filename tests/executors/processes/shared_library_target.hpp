#pragma once
// Targets defined in a shared library that shared_library_target_test links: a process or
// pool worker must find them in that library, which spawn's fresh executable (and the fork
// server, itself spawned) may have loaded at another address than the parent.

#include <cstdint>
#include <string>

namespace weft::testing
{

/// x³.
int cube_in_a_library(int x);

/// Writes x³ to the file at `path`: the outcome of a weft::process, which returns nothing.
void write_cube_in_a_library(std::string path, int x);

/// Where this library's code is in the calling process: the address of this very function.
std::uintptr_t library_code_address();

} // namespace weft::testing
