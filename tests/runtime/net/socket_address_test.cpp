#define BOOST_TEST_MODULE socket_address
#include <cstring>
#include <net/if.h>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

using weft::socket_address;

BOOST_AUTO_TEST_CASE(a_default_address_is_empty)
{
    const socket_address empty;
    BOOST_TEST(empty.family() == AF_UNSPEC);
    BOOST_TEST(empty.native_size() == 0u);
    BOOST_TEST(empty.to_string().empty());
    BOOST_TEST(empty.port() == 0);
    BOOST_TEST(empty == socket_address());
}

BOOST_AUTO_TEST_CASE(parses_an_ipv4_host_and_port)
{
    const socket_address a = socket_address::parse("192.0.2.7", 8080);
    BOOST_TEST(a.is_ipv4());
    BOOST_TEST(a.host() == "192.0.2.7");
    BOOST_TEST(a.port() == 8080);
    BOOST_TEST(a.native_size() == sizeof(sockaddr_in));
    BOOST_TEST(a.to_string() == "192.0.2.7:8080");
    sockaddr_in in{};
    std::memcpy(&in, a.native(), sizeof in);
    BOOST_TEST(ntohs(in.sin_port) == 8080);
}

BOOST_AUTO_TEST_CASE(parses_an_ipv6_host_with_or_without_brackets)
{
    const socket_address bare = socket_address::parse("2001:db8::1", 443);
    const socket_address bracketed = socket_address::parse("[2001:db8::1]", 443);
    BOOST_TEST(bare.is_ipv6());
    BOOST_TEST(bare == bracketed);
    BOOST_TEST(bare.host() == "2001:db8::1");
    BOOST_TEST(bare.to_string() == "[2001:db8::1]:443");
    BOOST_TEST(bare.native_size() == sizeof(sockaddr_in6));
}

BOOST_AUTO_TEST_CASE(parses_host_and_port_from_one_string)
{
    BOOST_TEST(socket_address::parse("127.0.0.1:9") == socket_address::parse("127.0.0.1", 9));
    BOOST_TEST(socket_address::parse("[::1]:65535") == socket_address::parse("::1", 65535));
    BOOST_TEST(socket_address::parse("0.0.0.0:0").port() == 0);
}

BOOST_AUTO_TEST_CASE(an_ipv6_scope_is_parsed_by_interface_name_or_number)
{
    const unsigned lo = ::if_nametoindex("lo");
    BOOST_REQUIRE(lo != 0u);
    const socket_address by_name = socket_address::parse("fe80::1%lo", 80);
    const socket_address by_number = socket_address::parse("fe80::1%" + std::to_string(lo), 80);
    BOOST_TEST(by_name == by_number);
    BOOST_TEST(by_name.host() == "fe80::1%lo");
    BOOST_TEST(by_name.to_string() == "[fe80::1%lo]:80");
    BOOST_TEST(!(by_name == socket_address::parse("fe80::1", 80)));
}

BOOST_AUTO_TEST_CASE(malformed_input_throws_invalid_argument)
{
    BOOST_CHECK_THROW(static_cast<void>(socket_address::parse("", 1)), std::invalid_argument);
    BOOST_CHECK_THROW(static_cast<void>(socket_address::parse("256.0.0.1", 1)),
                      std::invalid_argument);
    BOOST_CHECK_THROW(static_cast<void>(socket_address::parse("example.com", 1)),
                      std::invalid_argument);
    BOOST_CHECK_THROW(static_cast<void>(socket_address::parse("::g", 1)), std::invalid_argument);
    BOOST_CHECK_THROW(static_cast<void>(socket_address::parse("fe80::1%no-such-if0", 1)),
                      std::invalid_argument);
    BOOST_CHECK_THROW(static_cast<void>(socket_address::parse("127.0.0.1")), std::invalid_argument);
    BOOST_CHECK_THROW(static_cast<void>(socket_address::parse("127.0.0.1:65536")),
                      std::invalid_argument);
    BOOST_CHECK_THROW(static_cast<void>(socket_address::parse("127.0.0.1:")),
                      std::invalid_argument);
    BOOST_CHECK_THROW(static_cast<void>(socket_address::parse("127.0.0.1:8x")),
                      std::invalid_argument);
    BOOST_CHECK_THROW(static_cast<void>(socket_address::parse("::1:80")), std::invalid_argument);
    BOOST_CHECK_THROW(static_cast<void>(socket_address::parse("[::1]80")), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(the_error_message_names_the_input)
{
    try
    {
        static_cast<void>(socket_address::parse("not-an-ip", 1));
        BOOST_FAIL("no exception");
    }
    catch (const std::invalid_argument& e)
    {
        BOOST_TEST(std::string(e.what()).find("not-an-ip") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(a_unix_path_round_trips_and_formats)
{
    const socket_address a = socket_address::unix_path("/run/weft.sock");
    BOOST_TEST(a.is_unix());
    BOOST_TEST(a.path() == "/run/weft.sock");
    BOOST_TEST(a.to_string() == "/run/weft.sock");
    BOOST_TEST(a.port() == 0);
    BOOST_TEST(a.host().empty());
    BOOST_TEST(a == socket_address::unix_path("/run/weft.sock"));
    BOOST_TEST(!(a == socket_address::unix_path("/run/other.sock")));
}

BOOST_AUTO_TEST_CASE(an_abstract_unix_name_keeps_its_nul_and_formats_with_an_at_sign)
{
    const std::string name("\0weft", 5);
    const socket_address a = socket_address::unix_path(name);
    BOOST_TEST(a.path() == name);
    BOOST_TEST(a.to_string() == "@weft");
    // No terminating NUL is counted for abstract names: the length is part of the name.
    BOOST_TEST(a.native_size() == offsetof(sockaddr_un, sun_path) + 5);
}

BOOST_AUTO_TEST_CASE(bad_unix_paths_throw_invalid_argument)
{
    BOOST_CHECK_THROW(static_cast<void>(socket_address::unix_path("")), std::invalid_argument);
    const std::string longest(sizeof(sockaddr_un::sun_path) - 1, 'x');
    BOOST_CHECK_NO_THROW(static_cast<void>(socket_address::unix_path(longest)));
    BOOST_CHECK_THROW(static_cast<void>(socket_address::unix_path(longest + "x")),
                      std::invalid_argument);
    BOOST_CHECK_THROW(static_cast<void>(socket_address::unix_path(std::string("a\0b", 3))),
                      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(from_native_copies_an_address_the_kernel_filled_in)
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd >= 0);
    const socket_address any = socket_address::parse("127.0.0.1", 0);
    BOOST_REQUIRE(::bind(fd, any.native(), any.native_size()) == 0);
    sockaddr_storage storage{};
    socklen_t size = sizeof storage;
    BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &size) == 0);
    ::close(fd);
    const socket_address bound = socket_address::from_native(storage, size);
    BOOST_TEST(bound.is_ipv4());
    BOOST_TEST(bound.host() == "127.0.0.1");
    BOOST_TEST(bound.port() != 0);
    BOOST_CHECK_THROW(static_cast<void>(socket_address::from_native(storage, sizeof storage + 1)),
                      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(an_unnamed_unix_address_has_an_empty_path)
{
    sockaddr_storage storage{};
    storage.ss_family = AF_UNIX;
    const socket_address unnamed = socket_address::from_native(storage, sizeof(sa_family_t));
    BOOST_TEST(unnamed.is_unix());
    BOOST_TEST(unnamed.path().empty());
    BOOST_TEST(unnamed.to_string().empty());
}

BOOST_AUTO_TEST_CASE(equality_compares_family_host_and_port)
{
    BOOST_TEST(socket_address::parse("127.0.0.1", 1) == socket_address::parse("127.0.0.1", 1));
    BOOST_TEST(!(socket_address::parse("127.0.0.1", 1) == socket_address::parse("127.0.0.1", 2)));
    BOOST_TEST(!(socket_address::parse("127.0.0.1", 1) == socket_address::parse("127.0.0.2", 1)));
    BOOST_TEST(
        !(socket_address::parse("::ffff:127.0.0.1", 1) == socket_address::parse("127.0.0.1", 1)));
    // Bytes the kernel ignores (sin_zero) do not count.
    sockaddr_storage storage{};
    std::memcpy(&storage, socket_address::parse("10.0.0.1", 5).native(), sizeof(sockaddr_in));
    reinterpret_cast<sockaddr_in*>(&storage)->sin_zero[0] = 1;
    BOOST_TEST(socket_address::from_native(storage, sizeof(sockaddr_in)) ==
               socket_address::parse("10.0.0.1", 5));
}
