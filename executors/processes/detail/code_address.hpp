#pragma once
// Naming a function so that another run of the same executable finds it: the module it lives
// in (the executable itself, or a shared library by path) and its offset there. Addresses
// differ between runs (ASLR); offsets within the same files do not.

#include <cereal/types/string.hpp>
#include <cstdint>
#include <string>

namespace weft::detail
{

struct code_address
{
    std::string module; // "" for the main executable
    std::uintptr_t offset = 0;

    template <class Archive>
    void serialize(Archive& archive)
    {
        archive(module, offset);
    }
};

/// The module and offset of `address`, which must lie in an executable segment of a loaded
/// module. Throws std::invalid_argument otherwise.
[[nodiscard]] code_address locate_code(std::uintptr_t address);

/// The address of `where` in this process. Throws std::invalid_argument when the module is
/// not loaded or the offset is not inside one of its executable segments.
[[nodiscard]] std::uintptr_t resolve_code(const code_address& where);

} // namespace weft::detail
