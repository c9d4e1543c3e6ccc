// The out-of-line parts of pool_task.hpp: the code bytes of a task's head, and the exception a
// worker sent turned back into one here.
#include "executors/processes/detail/pool_task.hpp"

#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "executors/processes/detail/code_address.hpp"
#include "executors/processes/detail/wire.hpp"
#include "executors/processes/remote_error.hpp"

namespace weft::detail
{

const std::string& pool_code_bytes(std::uintptr_t entry, std::uintptr_t target)
{
    static std::mutex mutex;
    static std::map<std::pair<std::uintptr_t, std::uintptr_t>, std::string> cache;
    std::lock_guard lock(mutex);
    auto found = cache.find({entry, target});
    if (found != cache.end())
    {
        return found->second;
    }
    std::string bytes;
    {
        wire_writer writer(bytes);
        const code_address where = locate_code(entry);
        const code_address what = target != 0 ? locate_code(target) : code_address{};
        writer.archive()(where, what, target != 0);
    }
    // std::map never moves its nodes: the reference stays valid.
    return cache.emplace(std::make_pair(entry, target), std::move(bytes)).first->second;
}

std::exception_ptr decode_remote_exception(std::string_view body) noexcept
{
    try
    {
        std::string name;
        std::string what;
        {
            wire_reader reader(body);
            reader.archive()(name, what);
        }
        // Exactly these types (not their subclasses, whose type the name still tells) come
        // back as themselves: each has a constructor taking the message.
        if (name == "std::runtime_error")
            return std::make_exception_ptr(std::runtime_error(what));
        if (name == "std::logic_error")
            return std::make_exception_ptr(std::logic_error(what));
        if (name == "std::invalid_argument")
            return std::make_exception_ptr(std::invalid_argument(what));
        if (name == "std::out_of_range")
            return std::make_exception_ptr(std::out_of_range(what));
        if (name == "std::domain_error")
            return std::make_exception_ptr(std::domain_error(what));
        if (name == "std::length_error")
            return std::make_exception_ptr(std::length_error(what));
        if (name == "std::range_error")
            return std::make_exception_ptr(std::range_error(what));
        if (name == "std::overflow_error")
            return std::make_exception_ptr(std::overflow_error(what));
        if (name == "std::underflow_error")
            return std::make_exception_ptr(std::underflow_error(what));
        if (name == "std::bad_alloc")
            return std::make_exception_ptr(std::bad_alloc());
        return std::make_exception_ptr(remote_error(std::move(name), what));
    }
    catch (...)
    {
        return std::current_exception();
    }
}
} // namespace weft::detail
