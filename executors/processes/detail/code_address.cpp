#include "executors/processes/detail/code_address.hpp"

#include <dlfcn.h>
#include <link.h>
#include <stdexcept>

namespace weft::detail
{
namespace
{

struct lookup
{
    // Input: either an address to find, or a module name to find.
    std::uintptr_t address = 0;
    const std::string* module = nullptr;
    std::uintptr_t offset = 0;
    // Output.
    bool found = false;
    std::string found_module;
    std::uintptr_t found_base = 0;
};

bool in_executable_segment(const dl_phdr_info& info, std::uintptr_t address)
{
    for (int i = 0; i < info.dlpi_phnum; ++i)
    {
        const ElfW(Phdr)& segment = info.dlpi_phdr[i];
        if (segment.p_type != PT_LOAD || (segment.p_flags & PF_X) == 0)
        {
            continue;
        }
        const std::uintptr_t start = info.dlpi_addr + segment.p_vaddr;
        if (address >= start && address < start + segment.p_memsz)
        {
            return true;
        }
    }
    return false;
}

int visit(dl_phdr_info* info, std::size_t /*size*/, void* data)
{
    auto& query = *static_cast<lookup*>(data);
    const char* name = info->dlpi_name != nullptr ? info->dlpi_name : "";
    if (query.module == nullptr)
    {
        if (in_executable_segment(*info, query.address))
        {
            query.found = true;
            query.found_module = name;
            query.found_base = info->dlpi_addr;
            return 1;
        }
        return 0;
    }
    if (*query.module == name && in_executable_segment(*info, info->dlpi_addr + query.offset))
    {
        query.found = true;
        query.found_base = info->dlpi_addr;
        return 1;
    }
    return 0;
}

} // namespace

code_address locate_code(std::uintptr_t address)
{
    lookup query;
    query.address = address;
    dl_iterate_phdr(&visit, &query);
    if (!query.found)
    {
        throw std::invalid_argument("weft: a function to send to another process is not in any "
                                    "loaded module's code");
    }
    return code_address{std::move(query.found_module), address - query.found_base};
}

std::uintptr_t resolve_code(const code_address& where)
{
    lookup query;
    query.module = &where.module;
    query.offset = where.offset;
    dl_iterate_phdr(&visit, &query);
    if (query.found)
    {
        return query.found_base + where.offset;
    }
    if (where.module.empty())
    {
        throw std::invalid_argument("weft: a function sent from the parent process is not in "
                                    "this process's code (the executable): parent and child "
                                    "must run the same executable");
    }
    // A library the parent loaded with dlopen() (a plug-in) is not in a fresh executable:
    // load it here too, as Python's unpickling imports the module a function came from. It
    // stays loaded for the life of the process: the function may be called at any time.
    void* library = ::dlopen(where.module.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr)
    {
        const char* why = ::dlerror();
        throw std::invalid_argument("weft: a function sent from the parent process is in " +
                                    where.module +
                                    ", which this process has not loaded and could not load (" +
                                    (why != nullptr ? why : "dlopen failed") + ")");
    }
    link_map* loaded = nullptr;
    if (::dlinfo(library, RTLD_DI_LINKMAP, &loaded) != 0 || loaded == nullptr)
    {
        throw std::invalid_argument("weft: could not find where " + where.module +
                                    " was loaded in this process");
    }
    return static_cast<std::uintptr_t>(loaded->l_addr) + where.offset;
}

} // namespace weft::detail
