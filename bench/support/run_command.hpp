#pragma once
// Runs the other side of a comparison (a Python script, as a shell command) and hands its output
// to the benchmark line by line: one copy of the popen loop, so that every benchmark prints the
// command, keeps the command's lines in order with its own and reads the exit status alike.

#include <cstdio>
#include <string>

namespace bench
{

/// Whether run_command prints "$ command" and copies each line of the output to stdout.
enum class echo
{
    off,
    on,
};

/// Runs `command` with popen() and calls `on_line(const char* line)` for each line of its
/// output (with its '\n'; a line of more than 511 characters comes in pieces). With echo::on it
/// first prints "\n$ command\n" and copies each line to stdout before on_line sees it. stdout is
/// flushed before popen(), so that what this program printed stands before the command's
/// output. Returns pclose()'s status (0: the command exited 0), or -1 when popen() fails (errno
/// says why).
template <class OnLine>
int run_command(const std::string& command, echo mode, OnLine&& on_line)
{
    if (mode == echo::on)
    {
        std::printf("\n$ %s\n", command.c_str());
    }
    std::fflush(stdout);
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr)
    {
        return -1;
    }
    char line[512];
    while (std::fgets(line, sizeof line, pipe) != nullptr)
    {
        if (mode == echo::on)
        {
            std::fputs(line, stdout);
        }
        on_line(static_cast<const char*>(line));
    }
    std::fflush(stdout);
    return ::pclose(pipe);
}

} // namespace bench
