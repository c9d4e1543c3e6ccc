#define BOOST_TEST_MODULE unix_stream
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <system_error>

#include "net_support.hpp"
#include "runtime/uring/poll_operation.hpp"
#include "support/run_task.hpp"

using namespace std::chrono_literals;
using weft::socket_address;
using weft::task;
using weft::unix_listener;
using weft::unix_stream;
using weft::testing::recv_exactly;
using weft::testing::run_task;
using weft::testing::spawn;

namespace
{

// A fresh directory for socket files, removed with everything in it at the end of the test.
class temp_dir
{
  public:
    temp_dir()
    {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "weft-unix-XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        m_path = pattern;
    }
    ~temp_dir() { std::filesystem::remove_all(m_path); }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    [[nodiscard]] std::string file(const char* name) const { return (m_path / name).string(); }

  private:
    std::filesystem::path m_path;
};

bool is_socket_file(const std::string& path)
{
    struct stat st = {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

task<std::size_t> recv_into(unix_stream& stream, std::span<std::byte> buffer)
{
    co_return co_await stream.recv(buffer);
}

} // namespace

BOOST_AUTO_TEST_CASE(echo_round_trip_over_a_socket_file)
{
    const temp_dir dir;
    run_task(
        [](std::string path) -> task<void>
        {
            unix_listener listener = unix_listener::bind(path);
            spawn(weft::testing::serve_echo(listener, 1));
            unix_stream client = co_await unix_stream::connect(path);
            co_await client.send_all("over a unix socket");
            BOOST_TEST(co_await recv_exactly(client, 18) == "over a unix socket");
            co_await client.shutdown(weft::shutdown_how::write);
            std::array<std::byte, 8> buffer{};
            BOOST_TEST(co_await client.recv(buffer) == 0u);
        }(dir.file("echo.sock")));
}

BOOST_AUTO_TEST_CASE(echo_round_trip_over_an_abstract_address)
{
    run_task(
        []() -> task<void>
        {
            const std::string name =
                std::string(1, '\0') + "weft-test-" + std::to_string(::getpid());
            unix_listener listener = unix_listener::bind(name);
            BOOST_TEST(listener.local_address().to_string() == "@" + name.substr(1));
            spawn(weft::testing::serve_echo(listener, 1));
            unix_stream client = co_await unix_stream::connect(name);
            co_await client.send_all("abstract");
            BOOST_TEST(co_await recv_exactly(client, 8) == "abstract");
        }());
}

BOOST_AUTO_TEST_CASE(pair_yields_two_connected_streams)
{
    run_task(
        []() -> task<void>
        {
            auto [left, right] = unix_stream::pair();
            co_await left.send_all("ping");
            BOOST_TEST(co_await recv_exactly(right, 4) == "ping");
            co_await right.send_all("pong");
            BOOST_TEST(co_await recv_exactly(left, 4) == "pong");
        }());
}

BOOST_AUTO_TEST_CASE(recv_yields_zero_bytes_after_the_peer_closes)
{
    run_task(
        []() -> task<void>
        {
            auto [left, right] = unix_stream::pair();
            co_await left.send_all("bye");
            co_await left.close();
            BOOST_TEST(co_await recv_exactly(right, 3) == "bye");
            std::array<std::byte, 8> buffer{};
            BOOST_TEST(co_await right.recv(buffer) == 0u);
        }());
}

BOOST_AUTO_TEST_CASE(recv_cancelled_by_its_stop_token_throws_and_the_stream_stays_usable)
{
    run_task(
        []() -> task<void>
        {
            auto [left, right] = unix_stream::pair();
            std::stop_source source;
            spawn(
                [](std::stop_source& s) -> task<void>
                {
                    co_await weft::sleep_for(10ms);
                    s.request_stop();
                }(source));
            std::array<std::byte, 8> buffer{};
            bool cancelled = false;
            try
            {
                co_await weft::with_stop_token(source.get_token(), recv_into(right, buffer));
            }
            catch (const weft::operation_cancelled&)
            {
                cancelled = true;
            }
            BOOST_TEST(cancelled);
            co_await left.send_all("still here");
            BOOST_TEST(co_await recv_exactly(right, 10) == "still here");
        }());
}

BOOST_AUTO_TEST_CASE(connect_to_a_missing_path_throws_enoent)
{
    const temp_dir dir;
    const int error = run_task(
        [](std::string path) -> task<int>
        {
            try
            {
                co_await unix_stream::connect(path);
            }
            catch (const std::system_error& e)
            {
                co_return e.code().value();
            }
            co_return 0;
        }(dir.file("missing.sock")));
    BOOST_TEST(error == ENOENT);
}

BOOST_AUTO_TEST_CASE(connect_rejects_an_ip_address)
{
    BOOST_CHECK_THROW(run_task(unix_stream::connect(socket_address::parse("127.0.0.1", 1))),
                      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(the_listener_removes_its_socket_file_when_destroyed)
{
    const temp_dir dir;
    const std::string path = dir.file("owned.sock");
    {
        const unix_listener listener = unix_listener::bind(path);
        BOOST_TEST(is_socket_file(path));
        BOOST_TEST(listener.local_address().path() == path);
    }
    BOOST_TEST(!std::filesystem::exists(path));
}

BOOST_AUTO_TEST_CASE(the_listener_removes_its_socket_file_when_closed)
{
    const temp_dir dir;
    const std::string path = dir.file("closed.sock");
    run_task(
        [](std::string p) -> task<void>
        {
            unix_listener listener = unix_listener::bind(p);
            co_await listener.close();
            BOOST_TEST(!listener.is_open());
            BOOST_TEST(!std::filesystem::exists(p));
        }(path));
}

BOOST_AUTO_TEST_CASE(a_moved_listener_removes_the_file_once_when_the_new_owner_goes)
{
    const temp_dir dir;
    const std::string path = dir.file("moved.sock");
    {
        unix_listener outer;
        {
            unix_listener inner = unix_listener::bind(path);
            outer = std::move(inner);
        }
        BOOST_TEST(is_socket_file(path));
    }
    BOOST_TEST(!std::filesystem::exists(path));
}

BOOST_AUTO_TEST_CASE(the_listener_leaves_a_file_that_replaced_its_socket)
{
    const temp_dir dir;
    const std::string path = dir.file("replaced.sock");
    std::optional<unix_listener> original(unix_listener::bind(path));
    BOOST_REQUIRE(::unlink(path.c_str()) == 0);
    {
        const unix_listener successor = unix_listener::bind(path);
        original.reset();
        BOOST_TEST(is_socket_file(path));
    }
    BOOST_TEST(!std::filesystem::exists(path));
}

BOOST_AUTO_TEST_CASE(binding_over_an_existing_file_throws_eaddrinuse_and_keeps_it)
{
    const temp_dir dir;
    const std::string path = dir.file("taken.sock");
    const unix_listener first = unix_listener::bind(path);
    int error = 0;
    try
    {
        const unix_listener second = unix_listener::bind(path);
    }
    catch (const std::system_error& e)
    {
        error = e.code().value();
    }
    BOOST_TEST(error == EADDRINUSE);
    BOOST_TEST(is_socket_file(path));
}

BOOST_AUTO_TEST_CASE(poll_operation_reports_a_stream_that_became_readable)
{
    run_task(
        []() -> task<void>
        {
            auto [left, right] = unix_stream::pair();
            spawn(
                [](unix_stream& s) -> task<void>
                {
                    co_await weft::sleep_for(10ms);
                    co_await s.send_all("x");
                }(left));
            const unsigned events =
                co_await weft::uring::poll_operation(right.native_handle(), POLLIN);
            BOOST_TEST((events & POLLIN) != 0u);
            BOOST_TEST(co_await recv_exactly(right, 1) == "x");
        }());
}
