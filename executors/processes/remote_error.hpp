#pragma once

#include <stdexcept>
#include <string>

#include "executors/processes/remote_exception.hpp"

namespace weft
{

/// An exception thrown by a task in a worker process whose type cannot be recreated here and
/// derives from no standard exception type but std::runtime_error or std::exception (or from
/// none: `throw 42`). Its what() is "type name: original what()". (The standard exception types
/// come back as themselves; a user type derived from another one as remote_error_as.)
class remote_error : public std::runtime_error, public remote_exception
{
  public:
    remote_error(std::string type_name, const std::string& message)
        : std::runtime_error(type_name + ": " + message),
          remote_exception(std::move(type_name), message)
    {
    }
};

} // namespace weft
