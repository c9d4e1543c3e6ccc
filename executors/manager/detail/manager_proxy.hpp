#pragma once
// What every manager proxy is: where the server is, which object, and the call that asks.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "executors/manager/detail/manager_client.hpp"
#include "executors/processes/detail/wire.hpp"
#include "executors/processes/shippable.hpp"

namespace weft::detail
{

class manager_proxy
{
  public:
    template <class Archive>
    void serialize(Archive& archive)
    {
        archive(m_endpoint, m_object);
    }

  protected:
    manager_proxy() = default;
    manager_proxy(manager_endpoint endpoint, std::uint64_t object)
        : m_endpoint(std::move(endpoint)), m_object(object)
    {
    }

    /// Asks the server; throws std::out_of_range (with `missing`) when the key or index is not
    /// there, invalid_state_error for an object the server does not have.
    manager_reply call(manager_op op, std::string key = {}, std::string value = {},
                       std::int64_t index = 0, const char* missing = "not found") const
    {
        manager_request request;
        request.op = op;
        request.object = m_object;
        request.key = std::move(key);
        request.value = std::move(value);
        request.index = index;
        manager_reply reply = manager_call(m_endpoint, request);
        if (reply.status == manager_status::missing)
        {
            throw std::out_of_range(std::string("weft: manager: ") + missing);
        }
        if (reply.status == manager_status::wrong_object)
        {
            throw std::logic_error("weft: manager: the server has no such object");
        }
        return reply;
    }

    template <class T>
    static std::string bytes_of(const T& value)
    {
        static_assert(check_shippable_argument<T>());
        std::string out;
        lazy_wire_writer writer(out);
        save_value<T>(writer, value);
        return out;
    }

    template <class T>
    static T from_bytes(const std::string& bytes)
    {
        wire_reader reader(bytes);
        return load_value<T>(reader.archive());
    }

    manager_endpoint m_endpoint;
    std::uint64_t m_object = 0;
};

} // namespace weft::detail
