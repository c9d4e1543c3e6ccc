// Naming the frames weft's __cxa_throw recorded (throw_site_hook.cpp), and the function of a
// task whose worker died, with GCC's libbacktrace: function, file and line from the debug
// information where there is some, else the symbol table's name, else the module and offset.
#include "executors/processes/detail/throw_sites.hpp"

#include <backtrace.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <string>
#include <vector>

#include "executors/processes/detail/demangle.hpp"

namespace weft::detail
{
namespace
{

struct frame_name
{
    std::string function;
    std::string file;
    int line = 0;
};

void ignore_error(void*, const char*, int) {}

// Once per process: libbacktrace's state reads the executable's and libraries' debug
// information as it is first needed, and cannot be freed.
backtrace_state* symbolizer()
{
    static backtrace_state* const state =
        ::backtrace_create_state(nullptr, 1, &ignore_error, nullptr);
    return state;
}

// A frame may be several once inlined calls are counted: libbacktrace reports the innermost
// first.
int add_source_frame(void* names, std::uintptr_t, const char* file, int line, const char* function)
{
    if (function != nullptr)
    {
        static_cast<std::vector<frame_name>*>(names)->push_back(
            {demangle(function), file != nullptr ? file : "", line});
    }
    return 0;
}

void add_symbol(void* names, std::uintptr_t, const char* symbol, std::uintptr_t, std::uintptr_t)
{
    if (symbol != nullptr)
    {
        static_cast<std::vector<frame_name>*>(names)->push_back({demangle(symbol), "", 0});
    }
}

std::vector<frame_name> names_of(std::uintptr_t return_address)
{
    // The call is the instruction before the one it returns to.
    const std::uintptr_t call = return_address - 1;
    std::vector<frame_name> names;
    if (backtrace_state* state = symbolizer())
    {
        ::backtrace_pcinfo(state, call, &add_source_frame, &ignore_error, &names);
        if (names.empty())
        {
            ::backtrace_syminfo(state, call, &add_symbol, &ignore_error, &names);
        }
    }
    if (names.empty())
    {
        Dl_info module{};
        std::string where = "?";
        if (::dladdr(reinterpret_cast<void*>(call), &module) != 0 && module.dli_fname != nullptr)
        {
            where = std::string(module.dli_fname) + "+0x";
            char hex[32];
            const auto offset = call - reinterpret_cast<std::uintptr_t>(module.dli_fbase);
            (void)std::snprintf(hex, sizeof hex, "%jx", static_cast<std::uintmax_t>(offset));
            where += hex;
        }
        names.push_back({"?? in " + where, "", 0});
    }
    return names;
}

bool is_plumbing(const frame_name& frame)
{
    const std::string& f = frame.function;
    const std::string& file = frame.file;
    // process.cpp's fork body and process.hpp's run_here call a process target: in the
    // ThreadSanitizer build the fork body's frame was left below the target's.
    return file.find("executors/processes/detail/") != std::string::npos ||
           file.ends_with("executors/processes/process.cpp") ||
           file.ends_with("executors/processes/process.hpp") || file.ends_with("/bits/invoke.h") ||
           file.ends_with("/bits/std_function.h") || file.ends_with("/tuple") ||
           f.find("weft::detail::") != std::string::npos || f.starts_with("std::function<") ||
           f.find("std::__invoke") != std::string::npos ||
           f.find("std::__apply_impl<") != std::string::npos ||
           f.find("std::apply<") != std::string::npos;
}

} // namespace

std::string name_of_function(std::uintptr_t address)
{
    std::vector<frame_name> names;
    if (backtrace_state* state = symbolizer())
    {
        // The symbol table's name is the mangled one: with its parameters once demangled.
        ::backtrace_syminfo(state, address, &add_symbol, &ignore_error, &names);
        if (names.empty())
        {
            ::backtrace_pcinfo(state, address, &add_source_frame, &ignore_error, &names);
        }
    }
    return names.empty() ? std::string() : names.front().function;
}

std::string throw_site_of(const std::exception_ptr& error)
{
    // libstdc++'s exception_ptr is the thrown object's address (its one member); the record
    // is keyed by the same address.
    static_assert(sizeof(std::exception_ptr) == sizeof(void*));
    const void* object = nullptr;
    std::memcpy(&object, &error, sizeof object);
    void* frames[max_throw_frames];
    const int count = recorded_throw_frames(object, error.__cxa_exception_type(), frames);
    std::vector<frame_name> all;
    for (int i = 0; i < count; ++i)
    {
        for (frame_name& name : names_of(reinterpret_cast<std::uintptr_t>(frames[i])))
        {
            all.push_back(std::move(name));
        }
    }
    // The bottom frames are weft's, and the standard library's std::apply it calls the task
    // through: the task's caller is not the user's business.
    while (!all.empty() && is_plumbing(all.back()))
    {
        all.pop_back();
    }
    std::string text;
    for (std::size_t i = 0; i < all.size(); ++i)
    {
        text += "  #" + std::to_string(i) + " " + all[i].function;
        if (!all[i].file.empty())
        {
            text += " at " + all[i].file + ":" + std::to_string(all[i].line);
        }
        text += '\n';
    }
    return text;
}

} // namespace weft::detail
