#pragma once

#include <string>
#include <utility>

#include "executors/manager/detail/manager_proxy.hpp"

namespace weft
{

/// Python's manager.Namespace(): named attributes of any serializable types, held by the
/// manager's server. `ns.set("x", 1); ns.get<int>("x")`; reading an attribute as another type
/// than it was set with is an error of the caller's (the bytes are decoded as asked).
class namespace_proxy : public detail::manager_proxy
{
  public:
    template <class T>
    void set(const std::string& name, const T& value)
    {
        (void)call(detail::manager_op::dict_set, bytes_of(name), bytes_of(value));
    }
    /// Throws std::out_of_range when there is no such attribute (Python's AttributeError).
    template <class T>
    [[nodiscard]] T get(const std::string& name) const
    {
        return from_bytes<T>(
            call(detail::manager_op::dict_get, bytes_of(name), {}, 0, "no such attribute").value);
    }
    [[nodiscard]] bool has(const std::string& name) const
    {
        return call(detail::manager_op::dict_contains, bytes_of(name)).number != 0;
    }

    /// For cereal: a proxy that refers to nothing until loaded.
    namespace_proxy() = default;
    namespace_proxy(detail::manager_endpoint endpoint, std::uint64_t object)
        : manager_proxy(std::move(endpoint), object)
    {
    }
};

} // namespace weft
