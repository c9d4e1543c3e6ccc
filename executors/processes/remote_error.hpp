#pragma once

#include <stdexcept>
#include <string>

namespace weft
{

/// An exception thrown by a task in a worker process whose type cannot be recreated here: it
/// carries the original type's name and what(). (std::runtime_error, std::logic_error and the
/// other standard exception types with a message constructor come back as themselves.)
/// Derives from std::runtime_error, so a `catch (const std::exception&)` still sees it.
class remote_error : public std::runtime_error
{
  public:
    remote_error(std::string type_name, const std::string& message)
        : std::runtime_error(type_name + ": " + message), m_type_name(std::move(type_name)),
          m_message(message)
    {
    }

    /// The demangled name of the exception's type in the worker ("my::error", "int").
    [[nodiscard]] const std::string& type_name() const noexcept { return m_type_name; }
    /// The original what() ("(not a std::exception)" for anything else).
    [[nodiscard]] const std::string& message() const noexcept { return m_message; }

  private:
    std::string m_type_name;
    std::string m_message;
};

} // namespace weft
