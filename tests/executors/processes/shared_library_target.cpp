#include "executors/processes/shared_library_target.hpp"

#include <fstream>
#include <utility>

namespace weft::testing
{

int cube_in_a_library(int x)
{
    return x * x * x;
}

void write_cube_in_a_library(std::string path, int x)
{
    std::ofstream(std::move(path)) << cube_in_a_library(x);
}

std::uintptr_t library_code_address()
{
    return reinterpret_cast<std::uintptr_t>(&library_code_address);
}

} // namespace weft::testing
