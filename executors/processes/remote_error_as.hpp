#pragma once

#include <string>

#include "executors/processes/remote_exception.hpp"

namespace weft
{

/// An exception thrown by a task in a worker process, of a user type derived from the standard
/// exception type `Base` (std::invalid_argument, std::system_error, std::bad_alloc...): it is a
/// `Base` here (with the original's error code, for std::system_error) and carries the
/// original type's name. Its what() is "type name: original what()". Not final: the worker's
/// backtrace comes nested in a class derived from it (std::throw_with_nested).
template <class Base>
class remote_error_as : public Base, public remote_exception
{
  public:
    remote_error_as(std::string type_name, std::string message, Base base)
        : Base(std::move(base)), remote_exception(type_name, message),
          m_what(type_name + ": " + message)
    {
    }

    [[nodiscard]] const char* what() const noexcept override { return m_what.c_str(); }

  private:
    std::string m_what;
};

} // namespace weft
