#pragma once
// A process's connection to a manager's server, shared by the proxies of that manager in the
// process (one request at a time), re-made after a fork (a forked child must not share its
// parent's socket).

#include <cereal/cereal.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <sys/types.h>

#include "executors/manager/detail/manager_protocol.hpp"
#include "runtime/net/socket_address.hpp"

namespace weft::detail
{

/// Where a manager's server is and the key it wants: what every proxy carries.
struct manager_endpoint
{
    socket_address address;
    std::string authkey;

    template <class Archive>
    void serialize(Archive& archive)
    {
        // socket_address is a plain sockaddr_storage and its length.
        archive(cereal::binary_data(&address, sizeof address), authkey);
    }
};

/// Sends `request` to the server at `endpoint` over this process's connection to it (made on
/// first use) and returns the reply. Throws std::system_error when the server is gone,
/// authentication_error when the key is wrong.
manager_reply manager_call(const manager_endpoint& endpoint, const manager_request& request);

/// Closes this process's connection to the server at `endpoint` (after its shutdown).
void forget_manager_link(const manager_endpoint& endpoint) noexcept;

} // namespace weft::detail
