#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "executors/manager/detail/manager_proxy.hpp"

namespace weft
{

/// A list held by a manager's server (Python's manager.list()). Indices may be negative
/// (from the end), as in Python; an index out of range throws std::out_of_range (IndexError).
/// A compound update is not atomic: guard it with an interprocess::lock.
template <class T>
class list_proxy : public detail::manager_proxy
{
  public:
    void append(const T& value)
    {
        (void)call(detail::manager_op::list_append, {}, bytes_of(value));
    }
    [[nodiscard]] T get(std::int64_t index) const
    {
        return from_bytes<T>(
            call(detail::manager_op::list_get, {}, {}, index, "list index out of range").value);
    }
    void set(std::int64_t index, const T& value)
    {
        (void)call(detail::manager_op::list_set, {}, bytes_of(value), index,
                   "list assignment index out of range");
    }
    /// Python's insert: the index is clamped to the list.
    void insert(std::int64_t index, const T& value)
    {
        (void)call(detail::manager_op::list_insert, {}, bytes_of(value), index);
    }
    /// Removes and returns the item at `index` (the last by default).
    T pop(std::int64_t index = -1)
    {
        return from_bytes<T>(
            call(detail::manager_op::list_pop, {}, {}, index, "pop index out of range").value);
    }
    [[nodiscard]] std::size_t size() const
    {
        return static_cast<std::size_t>(call(detail::manager_op::size).number);
    }
    void clear() { (void)call(detail::manager_op::clear); }
    /// A copy of every item (Python's list(proxy)).
    [[nodiscard]] std::vector<T> to_vector() const
    {
        std::vector<T> out;
        for (const std::string& bytes : call(detail::manager_op::list_items).values)
        {
            out.push_back(from_bytes<T>(bytes));
        }
        return out;
    }

    /// For cereal: a proxy that refers to nothing until loaded.
    list_proxy() = default;
    list_proxy(detail::manager_endpoint endpoint, std::uint64_t object)
        : manager_proxy(std::move(endpoint), object)
    {
    }
};

} // namespace weft
