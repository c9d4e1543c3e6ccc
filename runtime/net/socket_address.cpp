#include "runtime/net/socket_address.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <net/if.h>
#include <ostream>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

namespace weft
{
namespace
{

[[noreturn]] void throw_invalid(std::string_view what, std::string_view input)
{
    throw std::invalid_argument("weft: socket_address: " + std::string(what) + ": \"" +
                                std::string(input) + "\"");
}

std::uint16_t parse_port(std::string_view text, std::string_view whole)
{
    unsigned value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value > 65535)
    {
        throw_invalid("bad port", whole);
    }
    return static_cast<std::uint16_t>(value);
}

std::uint32_t parse_scope(std::string_view scope, std::string_view whole)
{
    unsigned value = 0;
    const char* end = scope.data() + scope.size();
    const auto [ptr, ec] = std::from_chars(scope.data(), end, value);
    if (!scope.empty() && ec == std::errc{} && ptr == end)
    {
        return value;
    }
    const std::string name(scope);
    const unsigned index = ::if_nametoindex(name.c_str());
    if (index == 0)
    {
        throw_invalid("unknown IPv6 scope (interface)", whole);
    }
    return index;
}

// Copies rather than casts: sockaddr_storage and the sockaddr_* types are distinct types.
template <class T>
T view_as(const sockaddr_storage& storage) noexcept
{
    T out;
    std::memcpy(&out, &storage, sizeof out);
    return out;
}

} // namespace

socket_address socket_address::parse(std::string_view host, std::uint16_t port)
{
    const std::string_view whole = host;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    {
        host = host.substr(1, host.size() - 2);
    }
    socket_address result;
    if (host.find(':') == std::string_view::npos)
    {
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_port = htons(port);
        const std::string text(host);
        if (::inet_pton(AF_INET, text.c_str(), &in.sin_addr) != 1)
        {
            throw_invalid("not a numeric IPv4 or IPv6 address", whole);
        }
        std::memcpy(&result.m_storage, &in, sizeof in);
        result.m_size = sizeof in;
        return result;
    }
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    std::string_view address = host;
    if (const auto percent = host.find('%'); percent != std::string_view::npos)
    {
        address = host.substr(0, percent);
        in6.sin6_scope_id = parse_scope(host.substr(percent + 1), whole);
    }
    const std::string text(address);
    if (::inet_pton(AF_INET6, text.c_str(), &in6.sin6_addr) != 1)
    {
        throw_invalid("not a numeric IPv4 or IPv6 address", whole);
    }
    std::memcpy(&result.m_storage, &in6, sizeof in6);
    result.m_size = sizeof in6;
    return result;
}

socket_address socket_address::parse(std::string_view host_and_port)
{
    if (!host_and_port.empty() && host_and_port.front() == '[')
    {
        const auto close = host_and_port.find("]:");
        if (close == std::string_view::npos)
        {
            throw_invalid("expected [IPV6]:PORT", host_and_port);
        }
        return parse(host_and_port.substr(1, close - 1),
                     parse_port(host_and_port.substr(close + 2), host_and_port));
    }
    const auto colon = host_and_port.rfind(':');
    if (colon == std::string_view::npos || host_and_port.find(':') != colon)
    {
        throw_invalid("expected HOST:PORT (bracket IPv6 hosts: [::1]:80)", host_and_port);
    }
    return parse(host_and_port.substr(0, colon),
                 parse_port(host_and_port.substr(colon + 1), host_and_port));
}

socket_address socket_address::unix_path(std::string_view path)
{
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    // A filesystem path needs room for its terminating '\0'; an abstract name does not.
    const bool abstract = !path.empty() && path.front() == '\0';
    const std::size_t capacity = sizeof un.sun_path - (abstract ? 0 : 1);
    if (path.empty())
    {
        throw_invalid("empty Unix socket path", path);
    }
    if (path.size() > capacity)
    {
        throw_invalid("Unix socket path longer than " + std::to_string(capacity) + " bytes", path);
    }
    if (!abstract && path.find('\0') != std::string_view::npos)
    {
        throw_invalid("Unix socket path contains a NUL byte", path);
    }
    std::memcpy(un.sun_path, path.data(), path.size());
    socket_address result;
    std::memcpy(&result.m_storage, &un, sizeof un);
    result.m_size =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
    return result;
}

socket_address socket_address::from_native(const sockaddr_storage& storage, socklen_t size)
{
    if (size > sizeof storage)
    {
        throw std::invalid_argument("weft: socket_address: native size " + std::to_string(size) +
                                    " exceeds sockaddr_storage");
    }
    socket_address result;
    std::memcpy(&result.m_storage, &storage, size);
    result.m_size = size;
    return result;
}

std::uint16_t socket_address::port() const noexcept
{
    if (is_ipv4())
    {
        return ntohs(view_as<sockaddr_in>(m_storage).sin_port);
    }
    if (is_ipv6())
    {
        return ntohs(view_as<sockaddr_in6>(m_storage).sin6_port);
    }
    return 0;
}

std::string socket_address::host() const
{
    char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 1] = {};
    if (is_ipv4())
    {
        const auto in = view_as<sockaddr_in>(m_storage);
        ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
        return text;
    }
    if (is_ipv6())
    {
        const auto in6 = view_as<sockaddr_in6>(m_storage);
        ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
        std::string result = text;
        if (in6.sin6_scope_id != 0)
        {
            char name[IF_NAMESIZE] = {};
            result += '%';
            result += ::if_indextoname(in6.sin6_scope_id, name) != nullptr
                          ? std::string(name)
                          : std::to_string(in6.sin6_scope_id);
        }
        return result;
    }
    return {};
}

std::string socket_address::path() const
{
    if (!is_unix())
    {
        return {};
    }
    const auto un = view_as<sockaddr_un>(m_storage);
    constexpr std::size_t header = offsetof(sockaddr_un, sun_path);
    if (m_size <= header)
    {
        return {};
    }
    std::size_t length = std::min<std::size_t>(m_size - header, sizeof un.sun_path);
    if (un.sun_path[0] != '\0')
    {
        // Filesystem paths end at the first NUL, whether or not the kernel counted it.
        length = ::strnlen(un.sun_path, length);
    }
    return std::string(un.sun_path, length);
}

std::string socket_address::to_string() const
{
    if (is_ipv4())
    {
        return host() + ":" + std::to_string(port());
    }
    if (is_ipv6())
    {
        // Appended piecewise: g++ 12 at -O3 reports a false -Wrestrict on the chained `+`.
        std::string text = "[";
        text += host();
        text += "]:";
        text += std::to_string(port());
        return text;
    }
    if (is_unix())
    {
        std::string p = path();
        if (!p.empty() && p.front() == '\0')
        {
            p.front() = '@';
        }
        return p;
    }
    return {};
}

bool operator==(const socket_address& a, const socket_address& b) noexcept
{
    if (a.family() != b.family())
    {
        return false;
    }
    if (a.is_ipv4())
    {
        const auto x = view_as<sockaddr_in>(a.m_storage);
        const auto y = view_as<sockaddr_in>(b.m_storage);
        return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
    }
    if (a.is_ipv6())
    {
        const auto x = view_as<sockaddr_in6>(a.m_storage);
        const auto y = view_as<sockaddr_in6>(b.m_storage);
        return x.sin6_port == y.sin6_port && x.sin6_scope_id == y.sin6_scope_id &&
               std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
    }
    if (a.is_unix())
    {
        return a.path() == b.path();
    }
    return a.m_size == b.m_size;
}

std::ostream& operator<<(std::ostream& out, const socket_address& address)
{
    return out << address.to_string();
}

} // namespace weft
