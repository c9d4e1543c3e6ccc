#pragma once
// Test helper: counts how many times something ran in other processes (a target, an
// initializer), one line each in a file that every one of them appends to.

#include <fstream>
#include <string>

namespace weft::testing
{

/// Appends one line to the file at `path`: one more run.
inline void count_run(const std::string& path)
{
    std::ofstream(path, std::ios::app) << "run\n";
}

/// The runs counted in the file at `path` (0 when there is none).
inline int runs(const std::string& path)
{
    std::ifstream in(path);
    std::string line;
    int n = 0;
    while (std::getline(in, line))
    {
        ++n;
    }
    return n;
}

} // namespace weft::testing
