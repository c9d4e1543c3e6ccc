#pragma once
// Python's connection authentication (deliver_challenge / answer_challenge), both ways: each
// side proves it holds the key with an HMAC-SHA256 (OpenSSL's) of a random challenge, before
// anything else crosses the connection. Messages before that are capped at 256 bytes and never
// deserialized.

#include <string_view>

#include "executors/channels/detail/connection_end.hpp"
#include "executors/errors.hpp"

namespace weft::detail
{

/// The authentication_error of a peer that has not finished the handshake in time: the
/// listener tells it apart from a wrong key, drops that client and goes on to the next one.
class handshake_timeout : public authentication_error
{
  public:
    handshake_timeout()
        : authentication_error("weft: the peer did not finish authenticating in time")
    {
    }
};

/// The listener's side: challenges, then answers the client's challenge. Throws
/// authentication_error when the peer does not hold `key`, or has not answered by `until`.
void authenticate_server(connection_end& end, std::string_view key,
                         connection_end::deadline until = std::nullopt);
/// The client's side: answers, then challenges the server.
void authenticate_client(connection_end& end, std::string_view key,
                         connection_end::deadline until = std::nullopt);

/// The same through the event loop (the key is copied: the coroutine may outlive the caller's).
task<void> async_authenticate_server(connection_end& end, std::string key);
task<void> async_authenticate_client(connection_end& end, std::string key);

} // namespace weft::detail
