#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "executors/manager/detail/manager_proxy.hpp"

namespace weft
{

/// A dict held by a manager's server (Python's manager.dict()): every call is a request to the
/// server, from any process the proxy was passed to. Keys are compared by their serialized
/// bytes; keys() and values() come in insertion order. A compound update (read, change, write)
/// is not atomic: guard it with an interprocess::lock, as in Python.
template <class K, class V>
class dict_proxy : public detail::manager_proxy
{
  public:
    /// d[key] = value.
    void set(const K& key, const V& value)
    {
        (void)call(detail::manager_op::dict_set, bytes_of(key), bytes_of(value));
    }
    /// d[key]. Throws std::out_of_range when the key is missing (Python's KeyError).
    [[nodiscard]] V get(const K& key) const
    {
        return from_bytes<V>(
            call(detail::manager_op::dict_get, bytes_of(key), {}, 0, "key not found").value);
    }
    /// d.get(key, fallback). One request: a concurrent pop cannot fall between looking and
    /// reading.
    [[nodiscard]] V get(const K& key, const V& fallback) const
    {
        const detail::manager_reply reply = call(detail::manager_op::dict_get_or, bytes_of(key));
        return reply.number != 0 ? from_bytes<V>(reply.value) : fallback;
    }
    [[nodiscard]] bool contains(const K& key) const
    {
        return call(detail::manager_op::dict_contains, bytes_of(key)).number != 0;
    }
    /// d.pop(key): removes and returns it. Throws std::out_of_range when missing.
    V pop(const K& key)
    {
        return from_bytes<V>(
            call(detail::manager_op::dict_erase, bytes_of(key), {}, 0, "key not found").value);
    }
    [[nodiscard]] std::size_t size() const
    {
        return static_cast<std::size_t>(call(detail::manager_op::size).number);
    }
    void clear() { (void)call(detail::manager_op::clear); }
    [[nodiscard]] std::vector<K> keys() const { return all<K>(detail::manager_op::dict_keys); }
    [[nodiscard]] std::vector<V> values() const { return all<V>(detail::manager_op::dict_values); }

    /// For cereal: a proxy that refers to nothing until loaded.
    dict_proxy() = default;
    dict_proxy(detail::manager_endpoint endpoint, std::uint64_t object)
        : manager_proxy(std::move(endpoint), object)
    {
    }

  private:
    template <class T>
    std::vector<T> all(detail::manager_op op) const
    {
        std::vector<T> out;
        for (const std::string& bytes : call(op).values)
        {
            out.push_back(from_bytes<T>(bytes));
        }
        return out;
    }
};

} // namespace weft
