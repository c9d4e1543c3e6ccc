#include "executors/processes/detail/exception_description.hpp"

#include <cxxabi.h>
#include <exception>
#include <functional>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <variant>

#include <system_error>

#include "executors/processes/detail/demangle.hpp"
#include "executors/processes/detail/throw_sites.hpp"
#include "executors/processes/remote_backtrace.hpp"

namespace weft::detail
{
namespace
{

// std::throw_with_nested's class for T is named after T: the exception is a T, with a cause
// (a remote exception's backtrace, say) nested in it.
std::string unnested(std::string name)
{
    constexpr std::string_view nested = "std::_Nested_exception<";
    if (name.starts_with(nested) && name.ends_with('>'))
    {
        name = name.substr(nested.size(), name.size() - nested.size() - 1);
        while (name.ends_with(' ')) // the demangler writes "> >"
        {
            name.pop_back();
        }
    }
    return name;
}

// The frames of the weft::remote_backtrace nested in an exception that came back from another
// pool's worker; "" for any other cause. rethrow_exception does not pass through __cxa_throw:
// the thread's recorded throw stays.
std::string remote_frames_in(const std::nested_exception& nested)
{
    if (!nested.nested_ptr())
    {
        return "";
    }
    try
    {
        std::rethrow_exception(nested.nested_ptr());
    }
    catch (const remote_backtrace& trace)
    {
        return trace.frames();
    }
    catch (...)
    {
        return "";
    }
}

// The nearest of the standard exception types that weft recreates (a class with a message
// constructor, or one without state).
const char* standard_base_of(const std::exception& e)
{
    // Derived before base: the first match is the nearest.
    if (dynamic_cast<const std::range_error*>(&e) != nullptr)
        return "std::range_error";
    if (dynamic_cast<const std::overflow_error*>(&e) != nullptr)
        return "std::overflow_error";
    if (dynamic_cast<const std::underflow_error*>(&e) != nullptr)
        return "std::underflow_error";
    if (dynamic_cast<const std::runtime_error*>(&e) != nullptr)
        return "std::runtime_error";
    if (dynamic_cast<const std::invalid_argument*>(&e) != nullptr)
        return "std::invalid_argument";
    if (dynamic_cast<const std::domain_error*>(&e) != nullptr)
        return "std::domain_error";
    if (dynamic_cast<const std::length_error*>(&e) != nullptr)
        return "std::length_error";
    if (dynamic_cast<const std::out_of_range*>(&e) != nullptr)
        return "std::out_of_range";
    if (dynamic_cast<const std::logic_error*>(&e) != nullptr)
        return "std::logic_error";
    if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr)
        return "std::bad_alloc";
    if (dynamic_cast<const std::bad_optional_access*>(&e) != nullptr)
        return "std::bad_optional_access";
    if (dynamic_cast<const std::bad_variant_access*>(&e) != nullptr)
        return "std::bad_variant_access";
    if (dynamic_cast<const std::bad_function_call*>(&e) != nullptr)
        return "std::bad_function_call";
    if (dynamic_cast<const std::bad_cast*>(&e) != nullptr)
        return "std::bad_cast";
    return "std::exception";
}

} // namespace

exception_description describe_current_exception()
{
    const std::type_info* type = abi::__cxa_current_exception_type();
    exception_description caught{type != nullptr ? unnested(demangle(type->name())) : "unknown",
                                 "(not a std::exception)",
                                 "",
                                 0,
                                 "",
                                 throw_site_of(std::current_exception())};
    // The exception being handled, rethrown to learn its nearest standard base: the most derived
    // types first.
    try
    {
        throw;
    }
    catch (const std::system_error& e)
    {
        caught.standard_base = "std::system_error";
        caught.code = e.code().value();
        caught.category = e.code().category().name();
        caught.what = e.what();
    }
    catch (const std::exception& e)
    {
        caught.what = e.what();
        caught.standard_base = standard_base_of(e);
        // Passed on from another pool's task: where it was first thrown, not where it was
        // recreated.
        if (const auto* nested = dynamic_cast<const std::nested_exception*>(&e))
        {
            if (std::string frames = remote_frames_in(*nested); !frames.empty())
            {
                caught.backtrace = std::move(frames);
            }
        }
    }
    catch (...)
    {
    }
    return caught;
}

} // namespace weft::detail
