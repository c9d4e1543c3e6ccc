#include "executors/processes/detail/demangle.hpp"

#include <cstdlib>
#include <cxxabi.h>
#include <memory>

namespace weft::detail
{

std::string demangle(const char* mangled)
{
    int status = 0;
    const std::unique_ptr<char, void (*)(void*)> name(
        abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

} // namespace weft::detail
