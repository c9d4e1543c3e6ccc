#pragma once
// What proxies ask the manager's server, and what it answers. The server keeps every object's
// keys and values as the bytes the proxies serialized (weft's wire format), so it runs no
// user code and needs no types: two keys are equal when their bytes are.

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace weft::detail
{

enum class manager_op : std::uint8_t
{
    create_dict,
    create_list,
    create_value,
    size,
    clear,
    dict_set,
    dict_get,
    dict_get_or, // d.get(key, fallback): never `missing`; number says whether the key was there
    dict_erase,
    dict_contains,
    dict_keys,
    dict_values,
    list_append,
    list_get,
    list_set,
    list_insert,
    list_pop,
    list_items,
    value_get,
    value_set,
    shutdown,
};

struct manager_request
{
    manager_op op = manager_op::size;
    std::uint64_t object = 0;
    std::string key;   // dict key bytes
    std::string value; // value bytes
    std::int64_t index = 0;

    template <class Archive>
    void serialize(Archive& archive)
    {
        archive(op, object, key, value, index);
    }
};

enum class manager_status : std::uint8_t
{
    ok,
    missing,      // no such key or index (the proxy throws std::out_of_range)
    wrong_object, // no such object, or not of that kind (a bug or a stale proxy)
};

struct manager_reply
{
    manager_status status = manager_status::ok;
    std::uint64_t number = 0; // a new object's id, a size, a bool
    std::string value;
    std::vector<std::string> values;

    template <class Archive>
    void serialize(Archive& archive)
    {
        archive(status, number, value, values);
    }
};

} // namespace weft::detail
