#pragma once

#include <utility>

#include "executors/manager/detail/manager_proxy.hpp"

namespace weft
{

/// A value held by a manager's server (Python's manager.Value()). get() and set() are each one
/// request; there is no lock around a read-modify-write (shared_value is the fast, locked
/// option for trivially copyable T; this one takes any serializable T).
template <class T>
class value_proxy : public detail::manager_proxy
{
  public:
    [[nodiscard]] T get() const { return from_bytes<T>(call(detail::manager_op::value_get).value); }
    void set(const T& value) { (void)call(detail::manager_op::value_set, {}, bytes_of(value)); }

    /// For cereal: a proxy that refers to nothing until loaded.
    value_proxy() = default;
    value_proxy(detail::manager_endpoint endpoint, std::uint64_t object)
        : manager_proxy(std::move(endpoint), object)
    {
    }
};

} // namespace weft
