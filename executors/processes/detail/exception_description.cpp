#include "executors/processes/detail/exception_description.hpp"

#include <cstdlib>
#include <cxxabi.h>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>

namespace weft::detail
{
namespace
{

std::string demangled(const char* mangled)
{
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(
        abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

} // namespace

exception_description describe_current_exception()
{
    const std::type_info* type = abi::__cxa_current_exception_type();
    exception_description caught{type != nullptr ? demangled(type->name()) : "unknown",
                                 "(not a std::exception)"};
    try
    {
        throw; // the exception being handled, to learn whether it is a std::exception
    }
    catch (const std::exception& e)
    {
        caught.what = e.what();
    }
    catch (...)
    {
    }
    return caught;
}

} // namespace weft::detail
