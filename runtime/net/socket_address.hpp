#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <type_traits>

#include <sys/socket.h>

namespace weft
{

/// An IPv4, IPv6 or Unix-domain socket address: a value type (copyable, comparable) that the
/// socket types take and return. A default-constructed address is empty (AF_UNSPEC).
///
/// Parsing accepts numeric addresses only; resolving host names blocks and belongs elsewhere.
/// Malformed input throws std::invalid_argument naming the input.
class socket_address
{
  public:
    socket_address() noexcept = default;

    /// `host` is a numeric IPv4 address ("127.0.0.1") or IPv6 address ("::1", "[::1]",
    /// "fe80::1%eth0" with a scope given by interface name or number).
    [[nodiscard]] static socket_address parse(std::string_view host, std::uint16_t port);

    /// "HOST:PORT" with a numeric host; an IPv6 host is bracketed: "[::1]:8080".
    [[nodiscard]] static socket_address parse(std::string_view host_and_port);

    /// A Unix-domain address. A path starting with '\0' names the Linux abstract namespace.
    /// Throws std::invalid_argument when the path is empty or longer than sun_path allows.
    [[nodiscard]] static socket_address unix_path(std::string_view path);

    /// Copies an address the kernel filled in (accept, getsockname, recvfrom). Throws
    /// std::invalid_argument when `size` exceeds sockaddr_storage.
    [[nodiscard]] static socket_address from_native(const sockaddr_storage& storage,
                                                    socklen_t size);

    /// AF_INET, AF_INET6, AF_UNIX or AF_UNSPEC.
    [[nodiscard]] int family() const noexcept { return m_storage.ss_family; }
    [[nodiscard]] bool is_ipv4() const noexcept { return family() == AF_INET; }
    [[nodiscard]] bool is_ipv6() const noexcept { return family() == AF_INET6; }
    [[nodiscard]] bool is_unix() const noexcept { return family() == AF_UNIX; }

    /// The port of an IP address in host byte order; 0 for other families.
    [[nodiscard]] std::uint16_t port() const noexcept;

    /// The numeric host of an IP address ("127.0.0.1", "::1", "fe80::1%eth0"); empty for other
    /// families.
    [[nodiscard]] std::string host() const;

    /// The path of a Unix-domain address (abstract names keep their leading '\0'); empty for an
    /// unnamed socket and for other families.
    [[nodiscard]] std::string path() const;

    /// "127.0.0.1:80", "[::1]:80", "/run/x.sock", "@abstract-name", or "" when empty/unnamed.
    [[nodiscard]] std::string to_string() const;

    /// For system calls: the address and its length.
    [[nodiscard]] const sockaddr* native() const noexcept
    {
        return reinterpret_cast<const sockaddr*>(&m_storage);
    }
    [[nodiscard]] socklen_t native_size() const noexcept { return m_size; }

    /// Same family and the same host and port, or the same path; padding is ignored.
    friend bool operator==(const socket_address& a, const socket_address& b) noexcept;

    /// Writes to_string().
    friend std::ostream& operator<<(std::ostream& out, const socket_address& address);

  private:
    sockaddr_storage m_storage{};
    socklen_t m_size = 0;
};

template <class T>
struct ship_bytewise; // executors/processes/shippable.hpp

/// An address holds no pointer: it crosses into another process as its bytes, though weft
/// cannot look inside it (private members) to check.
template <>
struct ship_bytewise<socket_address> : std::true_type
{
};

} // namespace weft
