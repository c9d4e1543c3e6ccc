#include "executors/processes/start_method.hpp"

#include <atomic>

#include "runtime/errors.hpp"

namespace weft
{
namespace
{

std::atomic<start_method> g_default{start_method::forkserver};
std::atomic<bool> g_set{false};

} // namespace

void set_start_method(start_method method, bool force)
{
    if (g_set.exchange(true) && !force)
    {
        throw invalid_state_error("weft: the start method has already been set (pass force = "
                                  "true to change it)");
    }
    g_default.store(method);
}

start_method get_start_method() noexcept
{
    return g_default.load();
}

const char* to_string(start_method method) noexcept
{
    switch (method)
    {
    case start_method::fork:
        return "fork";
    case start_method::spawn:
        return "spawn";
    case start_method::forkserver:
        return "forkserver";
    }
    return "unknown";
}

} // namespace weft
