// The out-of-line parts of pool_task.hpp: the code bytes of a task's head (the exception a
// worker sent is turned back into one here in remote_exceptions.cpp).
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

namespace weft::detail
{

const pool_code& pool_code_of(std::uintptr_t entry, std::uintptr_t target)
{
    static std::mutex mutex;
    // Never destroyed: a pool's collector reads its calls' entries (the function a dead worker
    // ran) while static destructors run, for a pool that is static itself or outlives exit().
    static auto& cache = *new std::map<std::pair<std::uintptr_t, std::uintptr_t>, pool_code>();
    std::lock_guard lock(mutex);
    auto found = cache.find({entry, target});
    if (found != cache.end())
    {
        return found->second;
    }
    pool_code code{.entry = entry, .target = target, .bytes = {}};
    {
        wire_writer writer(code.bytes);
        const code_address where = locate_code(entry);
        const code_address what = target != 0 ? locate_code(target) : code_address{};
        writer.archive()(where, what, target != 0);
    }
    // std::map never moves its nodes: the reference stays valid.
    return cache.emplace(std::make_pair(entry, target), std::move(code)).first->second;
}

} // namespace weft::detail
