// An exception a worker described (exception_description, sent by encode_current_exception)
// turned back into one here: the type itself where weft can make it, else an exception that is
// still of the original's nearest standard type, so that the caller's catch clauses match as
// they would have in the worker.
#include <exception>
#include <functional>
#include <future>
#include <ios>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <variant>

#include <system_error>

#include "executors/processes/detail/pool_task.hpp"
#include "executors/processes/detail/wire.hpp"
#include "executors/processes/remote_backtrace.hpp"
#include "executors/processes/remote_error.hpp"
#include "executors/processes/remote_error_as.hpp"

namespace weft::detail
{
namespace
{

struct described
{
    std::string name;
    std::string what;
    std::string base;
    int code = 0;
    std::string category;
    std::string backtrace;
};

// `error` as the exception that comes back, with the worker's backtrace nested in it (as
// Python chains a _RemoteTraceback to it): std::rethrow_if_nested(e) throws it.
template <class Error>
std::exception_ptr deliver(const described& d, Error error)
{
    if (d.backtrace.empty())
    {
        return std::make_exception_ptr(std::move(error));
    }
    try
    {
        throw remote_backtrace(d.backtrace);
    }
    catch (const remote_backtrace&)
    {
        try
        {
            std::throw_with_nested(std::move(error));
        }
        catch (...)
        {
            return std::current_exception();
        }
    }
}

// The original type itself when it is `Base`, else a `Base` that carries the original's name.
template <class Base>
std::exception_ptr as(described& d, Base base)
{
    if (d.name == d.base)
    {
        return deliver(d, std::move(base));
    }
    return deliver(d, remote_error_as<Base>(std::move(d.name), std::move(d.what), std::move(base)));
}

// The standard categories, by name: a user's category has no instance here.
const std::error_category* category_named(const std::string& name) noexcept
{
    for (const std::error_category* known : {&std::generic_category(), &std::system_category(),
                                             &std::iostream_category(), &std::future_category()})
    {
        if (name == known->name())
        {
            return known;
        }
    }
    return nullptr;
}

std::exception_ptr system_error_from(described& d, const std::error_category& category)
{
    const std::error_code code(d.code, category);
    // std::system_error(code, prefix) says "prefix: " + the code's message: recreated from the
    // prefix when the original said that, so that what() is the original's.
    const std::string suffix = ": " + code.message();
    if (d.what.size() > suffix.size() && d.what.ends_with(suffix))
    {
        return as(d, std::system_error(code, d.what.substr(0, d.what.size() - suffix.size())));
    }
    if (d.what == code.message())
    {
        return as(d, std::system_error(code));
    }
    // A what() of its own (a user type's override): kept, beside the type's name.
    return deliver(d, remote_error_as<std::system_error>(std::move(d.name), std::move(d.what),
                                                         std::system_error(code)));
}

std::exception_ptr recreate(described& d)
{
    const std::string& base = d.base;
    if (base == "std::system_error")
    {
        if (const std::error_category* category = category_named(d.category))
        {
            return system_error_from(d, *category);
        }
        // A user's category: the code cannot come back; a std::runtime_error still matches.
    }
    if (base == "std::logic_error")
        return as(d, std::logic_error(d.what));
    if (base == "std::invalid_argument")
        return as(d, std::invalid_argument(d.what));
    if (base == "std::domain_error")
        return as(d, std::domain_error(d.what));
    if (base == "std::length_error")
        return as(d, std::length_error(d.what));
    if (base == "std::out_of_range")
        return as(d, std::out_of_range(d.what));
    if (base == "std::range_error")
        return as(d, std::range_error(d.what));
    if (base == "std::overflow_error")
        return as(d, std::overflow_error(d.what));
    if (base == "std::underflow_error")
        return as(d, std::underflow_error(d.what));
    if (base == "std::bad_alloc")
        return as(d, std::bad_alloc());
    if (base == "std::bad_optional_access")
        return as(d, std::bad_optional_access());
    if (base == "std::bad_variant_access")
        return as(d, std::bad_variant_access());
    if (base == "std::bad_function_call")
        return as(d, std::bad_function_call());
    if (base == "std::bad_cast")
        return as(d, std::bad_cast());
    if (d.name == "std::runtime_error")
        return deliver(d, std::runtime_error(d.what));
    // A user type derived from std::runtime_error or only from std::exception, or none.
    return deliver(d, remote_error(std::move(d.name), d.what));
}

} // namespace

std::exception_ptr decode_remote_exception(std::string_view body) noexcept
{
    try
    {
        described d;
        {
            wire_reader reader(body);
            reader.archive()(d.name, d.what, d.base, d.code, d.category, d.backtrace);
        }
        return recreate(d);
    }
    catch (...)
    {
        return std::current_exception();
    }
}

} // namespace weft::detail
