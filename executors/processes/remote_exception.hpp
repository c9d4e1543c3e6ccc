#pragma once

#include <string>

namespace weft
{

/// What every exception recreated from one a worker process threw carries when its own type
/// could not come back: the original type's name and what(). Not an exception by itself: the
/// exceptions that carry it (weft::remote_error, weft::remote_error_as<Base>) also derive from
/// the nearest standard exception type of the original, so `catch (const std::logic_error&)`
/// sees a user type derived from std::invalid_argument, and `catch (const
/// weft::remote_exception&)` sees every user type.
class remote_exception
{
  public:
    /// The demangled name of the exception's type in the worker ("my::error", "int").
    [[nodiscard]] const std::string& type_name() const noexcept { return m_type_name; }
    /// The original what() ("(not a std::exception)" for anything else).
    [[nodiscard]] const std::string& message() const noexcept { return m_message; }

  protected:
    remote_exception(std::string type_name, std::string message)
        : m_type_name(std::move(type_name)), m_message(std::move(message))
    {
    }
    remote_exception(const remote_exception&) = default;
    remote_exception& operator=(const remote_exception&) = default;
    ~remote_exception() = default;

  private:
    std::string m_type_name;
    std::string m_message;
};

} // namespace weft
