#pragma once

#include <stdexcept>
#include <string>

namespace weft
{

/// Where in the worker process a task's exception was thrown: nested in the exception that
/// comes back from the task's future (std::rethrow_if_nested throws it), as Python chains the
/// worker's traceback to a remote exception. One line per frame, most recent call first:
/// "  #0 function at file:line" where the executable has debug information, the function alone
/// where it has a symbol table, "?? in module+0xoffset" otherwise.
class remote_backtrace : public std::runtime_error
{
  public:
    explicit remote_backtrace(const std::string& frames)
        : std::runtime_error("the worker's backtrace, most recent call first:\n" + frames),
          m_frames(frames)
    {
    }

    /// The frames alone, without the heading of what().
    [[nodiscard]] const std::string& frames() const noexcept { return m_frames; }

  private:
    std::string m_frames;
};

} // namespace weft
