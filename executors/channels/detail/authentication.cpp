#include "executors/channels/detail/authentication.hpp"

#include <array>
#include <cerrno>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string>

#include <sys/random.h>
#include <system_error>

#include "executors/errors.hpp"
#include "runtime/errors.hpp"

namespace weft::detail
{
namespace
{

constexpr std::string_view challenge_tag = "#CHALLENGE#{sha256}";
constexpr std::string_view welcome = "#WELCOME#";
constexpr std::string_view failure = "#FAILURE#";
constexpr std::size_t challenge_bytes = 40;
constexpr std::uint64_t handshake_limit = 256; // Python's cap on pre-authentication messages

std::string receive_small(connection_end& end, connection_end::deadline until)
{
    frame_reader reader;
    bool received = false;
    try
    {
        received = end.receive(reader, handshake_limit, until);
    }
    catch (const timeout_error&)
    {
        throw handshake_timeout();
    }
    if (!received)
    {
        throw authentication_error("weft: the peer closed the connection while authenticating");
    }
    if (!reader.fds().empty())
    {
        throw authentication_error("weft: the peer sent descriptors while authenticating");
    }
    return std::move(reader.body());
}

void send_small(connection_end& end, std::string_view message)
{
    end.send(message, attachments{});
}

std::string hmac(std::string_view key, std::string_view message)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
             &length) == nullptr)
    {
        throw std::runtime_error("weft: HMAC-SHA256 failed");
    }
    return std::string(reinterpret_cast<const char*>(out.data()), length);
}

std::string new_challenge();
bool digest_matches(std::string_view key, const std::string& message, const std::string& answer);
bool well_formed_challenge(const std::string& message);

void deliver_challenge(connection_end& end, std::string_view key, connection_end::deadline until)
{
    const std::string message = new_challenge();
    send_small(end, message);
    const std::string answer = receive_small(end, until);
    if (!digest_matches(key, message, answer))
    {
        send_small(end, failure);
        throw authentication_error("weft: digest received was wrong (authkey mismatch)");
    }
    send_small(end, welcome);
}

void answer_challenge(connection_end& end, std::string_view key, connection_end::deadline until)
{
    const std::string message = receive_small(end, until);
    if (!well_formed_challenge(message))
    {
        throw authentication_error("weft: the peer's challenge is malformed");
    }
    send_small(end, hmac(key, message));
    if (receive_small(end, until) != welcome)
    {
        throw authentication_error("weft: digest sent was rejected (authkey mismatch)");
    }
}

task<std::string> async_receive_small(connection_end& end)
{
    frame_reader reader;
    if (!co_await end.async_receive(reader, handshake_limit))
    {
        throw authentication_error("weft: the peer closed the connection while authenticating");
    }
    if (!reader.fds().empty())
    {
        throw authentication_error("weft: the peer sent descriptors while authenticating");
    }
    co_return std::move(reader.body());
}

task<void> async_send_small(connection_end& end, std::string message)
{
    co_await end.async_send(std::move(message), attachments{});
}

std::string new_challenge()
{
    std::string message(challenge_tag);
    std::array<char, challenge_bytes> random{};
    if (::getrandom(random.data(), random.size(), 0) != static_cast<ssize_t>(random.size()))
    {
        throw std::system_error(errno, std::system_category(), "weft: getrandom");
    }
    message.append(random.data(), random.size());
    return message;
}

bool digest_matches(std::string_view key, const std::string& message, const std::string& answer)
{
    const std::string expected = hmac(key, message);
    return answer.size() == expected.size() &&
           CRYPTO_memcmp(answer.data(), expected.data(), expected.size()) == 0;
}

bool well_formed_challenge(const std::string& message)
{
    return message.size() == challenge_tag.size() + challenge_bytes &&
           message.compare(0, challenge_tag.size(), challenge_tag) == 0;
}

task<void> async_deliver_challenge(connection_end& end, const std::string& key)
{
    const std::string message = new_challenge();
    co_await async_send_small(end, message);
    const std::string answer = co_await async_receive_small(end);
    if (!digest_matches(key, message, answer))
    {
        co_await async_send_small(end, std::string(failure));
        throw authentication_error("weft: digest received was wrong (authkey mismatch)");
    }
    co_await async_send_small(end, std::string(welcome));
}

task<void> async_answer_challenge(connection_end& end, const std::string& key)
{
    const std::string message = co_await async_receive_small(end);
    if (!well_formed_challenge(message))
    {
        throw authentication_error("weft: the peer's challenge is malformed");
    }
    co_await async_send_small(end, hmac(key, message));
    if (co_await async_receive_small(end) != welcome)
    {
        throw authentication_error("weft: digest sent was rejected (authkey mismatch)");
    }
}

} // namespace

task<void> async_authenticate_server(connection_end& end, std::string key)
{
    co_await async_deliver_challenge(end, key);
    co_await async_answer_challenge(end, key);
}

task<void> async_authenticate_client(connection_end& end, std::string key)
{
    co_await async_answer_challenge(end, key);
    co_await async_deliver_challenge(end, key);
}

void authenticate_server(connection_end& end, std::string_view key, connection_end::deadline until)
{
    deliver_challenge(end, key, until);
    answer_challenge(end, key, until);
}

void authenticate_client(connection_end& end, std::string_view key, connection_end::deadline until)
{
    answer_challenge(end, key, until);
    deliver_challenge(end, key, until);
}

} // namespace weft::detail
