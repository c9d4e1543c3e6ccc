#pragma once
// The METHODS argument of the process benchmarks, parsed in one place so that they all take the
// same words.

#include <string>
#include <vector>
#include <weft/weft.hpp>

namespace bench
{

/// Appends to `out` the start methods that `arg` names: a comma list of fork, spawn and
/// forkserver, or "all". Always in the order fork, spawn, forkserver, whatever the order in
/// `arg`, so that a benchmark makes its fork pools first. Other words are passed over. Returns
/// false when `arg` names none.
inline bool parse_methods(const std::string& arg, std::vector<weft::start_method>& out)
{
    for (const auto method :
         {weft::start_method::fork, weft::start_method::spawn, weft::start_method::forkserver})
    {
        const std::string name = weft::to_string(method);
        const std::string list = "," + arg + ",";
        if (arg == "all" || list.find("," + name + ",") != std::string::npos)
        {
            out.push_back(method);
        }
    }
    return !out.empty();
}

} // namespace bench
