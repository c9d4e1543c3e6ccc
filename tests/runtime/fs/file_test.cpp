#define BOOST_TEST_MODULE file
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <stdlib.h>
#include <string>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <system_error>

#include "support/run_task.hpp"

using weft::file;
using weft::task;
using weft::testing::run_task;

namespace
{

// A fresh directory, removed with everything in it at the end of the test.
class temp_dir
{
  public:
    temp_dir()
    {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "weft-file-XXXXXX").string();
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

std::span<const std::byte> bytes_of(const std::string& text)
{
    return std::as_bytes(std::span(text));
}

std::string text_of(std::span<const std::byte> bytes)
{
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string contents_of(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

template <class Awaitable>
task<int> error_of(Awaitable awaitable)
{
    try
    {
        co_await std::move(awaitable);
    }
    catch (const std::system_error& e)
    {
        co_return e.code().value();
    }
    co_return 0;
}

} // namespace

BOOST_AUTO_TEST_CASE(writes_and_reads_at_explicit_offsets)
{
    const temp_dir dir;
    const std::string path = dir.file("data.bin");
    run_task(
        [](std::string p) -> task<void>
        {
            file f = co_await file::open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
            BOOST_TEST(f.is_open());
            BOOST_TEST(co_await f.write_at(bytes_of("world"), 6) == 5u);
            BOOST_TEST(co_await f.write_at(bytes_of("hello "), 0) == 6u);
            std::array<std::byte, 5> middle{};
            BOOST_TEST(co_await f.read_at(middle, 3) == 5u);
            BOOST_TEST(text_of(middle) == "lo wo");
            std::array<std::byte, 64> all{};
            const std::size_t n = co_await f.read_at(all, 0);
            BOOST_TEST(text_of(std::span(all).first(n)) == "hello world");
            co_await f.close();
        }(path));
    BOOST_TEST(contents_of(path) == "hello world");
}

BOOST_AUTO_TEST_CASE(writing_past_the_end_leaves_a_hole_of_zeros)
{
    const temp_dir dir;
    const std::string path = dir.file("sparse.bin");
    run_task(
        [](std::string p) -> task<void>
        {
            const file f = co_await file::open(p, O_RDWR | O_CREAT | O_TRUNC);
            co_await f.write_at(bytes_of("x"), 4096);
            std::array<std::byte, 4> head{};
            BOOST_TEST(co_await f.read_at(head, 0) == 4u);
            BOOST_TEST(text_of(head) == std::string(4, '\0'));
        }(path));
    BOOST_TEST(std::filesystem::file_size(path) == 4097u);
}

BOOST_AUTO_TEST_CASE(reading_at_or_past_the_end_yields_zero_bytes)
{
    const temp_dir dir;
    run_task(
        [](std::string p) -> task<void>
        {
            const file f = co_await file::open(p, O_RDWR | O_CREAT | O_TRUNC);
            co_await f.write_at(bytes_of("abc"), 0);
            std::array<std::byte, 8> buffer{};
            BOOST_TEST(co_await f.read_at(buffer, 1) == 2u);
            BOOST_TEST(co_await f.read_at(buffer, 3) == 0u);
            BOOST_TEST(co_await f.read_at(buffer, 1'000'000) == 0u);
        }(dir.file("short.bin")));
}

BOOST_AUTO_TEST_CASE(fsync_flushes_a_written_file)
{
    const temp_dir dir;
    const std::string path = dir.file("synced.bin");
    run_task(
        [](std::string p) -> task<void>
        {
            const file f = co_await file::open(p, O_WRONLY | O_CREAT | O_TRUNC);
            co_await f.write_at(bytes_of("durable"), 0);
            co_await f.fsync();
        }(path));
    BOOST_TEST(contents_of(path) == "durable");
}

BOOST_AUTO_TEST_CASE(opening_a_missing_file_throws_enoent)
{
    const temp_dir dir;
    const int error = run_task(error_of(file::open(dir.file("missing"), O_RDONLY)));
    BOOST_TEST(error == ENOENT);
}

BOOST_AUTO_TEST_CASE(o_excl_on_an_existing_file_throws_eexist)
{
    const temp_dir dir;
    const std::string path = dir.file("exists");
    std::ofstream(path) << "x";
    const int error = run_task(error_of(file::open(path, O_WRONLY | O_CREAT | O_EXCL)));
    BOOST_TEST(error == EEXIST);
}

BOOST_AUTO_TEST_CASE(writing_to_a_read_only_file_throws_ebadf)
{
    const temp_dir dir;
    const std::string path = dir.file("read-only");
    std::ofstream(path) << "x";
    run_task(
        [](std::string p) -> task<void>
        {
            const file f = co_await file::open(p, O_RDONLY);
            const std::string data = "y";
            BOOST_TEST(co_await error_of(f.write_at(bytes_of(data), 0)) == EBADF);
        }(path));
}

BOOST_AUTO_TEST_CASE(open_sets_close_on_exec_and_the_mode)
{
    const temp_dir dir;
    const std::string path = dir.file("mode");
    run_task(
        [](std::string p) -> task<void>
        {
            const file f = co_await file::open(p, O_WRONLY | O_CREAT, 0640);
            BOOST_TEST((::fcntl(f.native_handle(), F_GETFD) & FD_CLOEXEC) != 0);
        }(path));
    struct stat st = {};
    BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
    const mode_t umask_now = ::umask(0);
    ::umask(umask_now);
    BOOST_TEST((st.st_mode & 0777) == (0640 & ~umask_now));
}

BOOST_AUTO_TEST_CASE(close_and_destruction_release_the_descriptor)
{
    const temp_dir dir;
    run_task(
        [](std::string p) -> task<void>
        {
            file closed = co_await file::open(p, O_WRONLY | O_CREAT);
            const int closed_fd = closed.native_handle();
            co_await closed.close();
            BOOST_TEST(!closed.is_open());
            BOOST_TEST(::fcntl(closed_fd, F_GETFD) == -1);

            int dropped_fd = -1;
            {
                const file dropped = co_await file::open(p, O_RDONLY);
                dropped_fd = dropped.native_handle();
            }
            BOOST_TEST(::fcntl(dropped_fd, F_GETFD) == -1);
        }(dir.file("closed")));
}

constexpr int blocks = 64;
constexpr std::size_t block_size = 4096;

BOOST_AUTO_TEST_CASE(concurrent_writes_at_distinct_offsets_all_land)
{
    const temp_dir dir;
    const std::string path = dir.file("blocks.bin");
    run_task(
        [](std::string p) -> task<void>
        {
            const file f = co_await file::open(p, O_RDWR | O_CREAT | O_TRUNC);
            std::vector<std::string> data;
            for (int i = 0; i < blocks; ++i)
            {
                data.emplace_back(block_size, static_cast<char>('A' + i % 26));
            }
            int written = 0;
            for (int i = 0; i < blocks; ++i)
            {
                weft::event_loop::require_current("test").spawn(
                    [](const file& target, const std::string& block, std::uint64_t offset,
                       int& done) -> task<void>
                    {
                        const std::size_t n = co_await target.write_at(bytes_of(block), offset);
                        BOOST_TEST(n == block.size());
                        ++done;
                    }(f, data[static_cast<std::size_t>(i)], i * block_size, written));
            }
            while (written < blocks)
            {
                co_await weft::sleep_for(std::chrono::milliseconds(1));
            }
            std::vector<std::byte> back(blocks * block_size);
            std::size_t total = 0;
            while (total < back.size())
            {
                const std::size_t n = co_await f.read_at(std::span(back).subspan(total), total);
                BOOST_REQUIRE(n > 0u);
                total += n;
            }
            for (int i = 0; i < blocks; ++i)
            {
                BOOST_TEST(text_of(std::span(back).subspan(i * block_size, block_size)) ==
                           data[static_cast<std::size_t>(i)]);
            }
        }(path));
    BOOST_TEST(std::filesystem::file_size(path) == blocks * block_size);
}
