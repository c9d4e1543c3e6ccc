#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <sys/types.h>

namespace weft
{

/// The outcome of a task whose worker process died while running it (killed by a signal, or
/// exited): Python's BrokenProcessPool, but only for the tasks that worker held. The pool
/// replaces the worker and every other task still runs.
class worker_died_error : public std::runtime_error
{
  public:
    worker_died_error(const std::string& what, pid_t pid, int exitcode, std::uint64_t task)
        : std::runtime_error(what), m_pid(pid), m_exitcode(exitcode), m_task(task)
    {
    }

    /// The pid of the worker that died.
    [[nodiscard]] pid_t pid() const noexcept { return m_pid; }
    /// Its exit status, or minus the signal that killed it (as process::exitcode()).
    [[nodiscard]] int exitcode() const noexcept { return m_exitcode; }
    /// weft's number for the task, named in what() too: unique within this process and
    /// increasing in submission order across all its pools (a map chunk has one number).
    [[nodiscard]] std::uint64_t task() const noexcept { return m_task; }

  private:
    pid_t m_pid;
    int m_exitcode;
    std::uint64_t m_task;
};

} // namespace weft
