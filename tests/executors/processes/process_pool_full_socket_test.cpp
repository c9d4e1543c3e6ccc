// A task's shared memory descriptors go to its worker over a socket that a busy worker does not
// drain. Sending them never waits for the worker under the pool's lock: submit() returns at
// once and the tasks go out as the worker reads, in order, under the three start methods.
#define BOOST_TEST_MODULE process_pool_full_socket
#define BOOST_TEST_NO_MAIN
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <dirent.h>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <sys/resource.h>
#include <sys/socket.h>
#include <system_error>

#include "support/many_values.hpp"
#include "support/nap_then_sum.hpp"
#include "support/process_pool_tests.hpp"

using weft::testing::nap_then_sum;

namespace
{

// An argument the worker cannot decode: a task of (it, shared value) fails before its worker
// fetches the shared value's descriptor, which stays in the worker's socket.
struct refuses_to_load
{
    std::string name = "bomb"; // not trivially copyable: it goes through save/load
    template <class Archive>
    void save(Archive& archive) const
    {
        archive(name);
    }
    template <class Archive>
    void load(Archive& /*archive*/)
    {
        throw std::runtime_error("refuses to load");
    }
};

int never_runs(refuses_to_load /*first*/, weft::shared_value<int> value)
{
    return value.get();
}

// This process's Unix SOCK_SEQPACKET sockets made by socketpair() (the peer's credentials are
// this process's): a pool's ends of its workers' descriptor sockets among them.
std::vector<int> seqpacket_sockets()
{
    std::vector<int> found;
    DIR* dir = ::opendir("/proc/self/fd");
    BOOST_TEST_REQUIRE(dir != nullptr);
    while (const dirent* entry = ::readdir(dir))
    {
        const int fd = std::atoi(entry->d_name);
        int type = 0;
        socklen_t size = sizeof type;
        ucred peer{};
        socklen_t peer_size = sizeof peer;
        if (fd > 2 && fd != ::dirfd(dir) &&
            ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) == 0 && type == SOCK_SEQPACKET &&
            ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_size) == 0 &&
            peer.pid == ::getpid())
        {
            found.push_back(fd);
        }
    }
    ::closedir(dir);
    std::sort(found.begin(), found.end());
    return found;
}

// Submits `count` tasks carrying `each` shared values behind a 3 s nap that the pool takes for
// a short task (its function was timed short), so all of them go to the nap's worker, whose
// socket they fill (checked when `socket`, the pool's end, is given); returns how long
// submitting took. The results are checked after.
std::chrono::steady_clock::duration fill_behind_a_nap(process_pool_executor& pool, int count,
                                                      int each, int socket = -1)
{
    for (int i = 0; i < 100; ++i)
    {
        BOOST_TEST(pool.submit(nap_then_sum, 0, ones(1)).result(patience) == 1);
    }
    const many_values shared = ones(each);
    auto napping = pool.submit(nap_then_sum, 3000, many_values{});
    const auto started = std::chrono::steady_clock::now();
    std::vector<future<int>> futures;
    for (int i = 0; i < count; ++i)
    {
        futures.push_back(pool.submit(nap_then_sum, 0, shared));
    }
    const auto took = std::chrono::steady_clock::now() - started;
    if (socket >= 0)
    {
        // Whether the socket filled depends on the warm-up timing the function short (64 tasks
        // go ahead then): not so under a sanitizer on a loaded machine, and the case is weaker.
        pollfd room{socket, POLLOUT, 0};
        if (::poll(&room, 1, 0) != 0)
        {
            BOOST_TEST_MESSAGE("the socket did not fill: the tasks did not all go ahead");
        }
    }
    BOOST_TEST(napping.result(patience) == 0);
    for (auto& f : futures)
    {
        BOOST_TEST(f.result(patience) == each);
    }
    return took;
}

// A pool of one worker whose descriptor socket holds a few datagrams (the kernel's least
// buffer: 6 here, against 278 by default, which a pool's 1 MiB ring of task bytes cannot fill),
// and that socket's pool end. The fork server's socket, which stays, is started first.
struct pool_with_small_socket
{
    explicit pool_with_small_socket(weft::start_method method)
    {
        process_pool_executor({.max_workers = 1, .start_method = method}).shutdown();
        const std::vector<int> before = seqpacket_sockets();
        pool.emplace(process_pool_executor::options{.max_workers = 1, .start_method = method});
        std::vector<int> opened;
        std::ranges::set_difference(seqpacket_sockets(), before, std::back_inserter(opened));
        BOOST_TEST_REQUIRE(opened.size() == 1U);
        socket = opened[0];
        const int least = 1;
        BOOST_TEST_REQUIRE(::setsockopt(socket, SOL_SOCKET, SO_SNDBUF, &least, sizeof least) == 0);
    }
    std::optional<process_pool_executor> pool;
    int socket = -1;
};

} // namespace

// Tasks of one shared value each fill the socket: they wait for room, not submit() (it waited
// the whole nap under the pool's lock).
BOOST_AUTO_TEST_CASE(a_full_socket_holds_tasks_back_not_submit)
{
    for (const auto method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool_with_small_socket small(method);
            BOOST_TEST(fill_behind_a_nap(*small.pool, 30, 1, small.socket) < 1500ms);
        }
    }
}

// Tasks of 300 shared values (two datagrams each: a socket of the least buffer holds 4-6,
// depending on the kernel) go to an idle worker only: submit() does not wait for the second
// one's room.
BOOST_AUTO_TEST_CASE(many_descriptors_wait_for_an_idle_worker_not_submit)
{
    rlimit files{};
    BOOST_TEST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &files) == 0);
    if (files.rlim_cur < 4096)
    {
        BOOST_TEST_MESSAGE("skipped: 10 tasks of 300 shared values need more than "
                           << files.rlim_cur << " descriptors per process");
        return;
    }
    for (const auto method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool_with_small_socket small(method);
            BOOST_TEST(fill_behind_a_nap(*small.pool, 10, 300) < 1500ms);
        }
    }
}

// A task whose decoding fails before it fetched its shared memory leaves no datagram behind:
// more such tasks than the socket holds, then a task of shared memory still runs there (it
// failed with ENOBUFS while the worker left them in its socket).
BOOST_AUTO_TEST_CASE(datagrams_of_a_task_that_failed_to_decode_do_not_fill_the_socket)
{
    for (const auto method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool_with_small_socket small(method);
            const weft::shared_value<int> one(1);
            for (int i = 0; i < 12; ++i) // a socket of the least buffer holds 4-6
            {
                BOOST_CHECK_EXCEPTION(
                    (void)small.pool->submit(never_runs, refuses_to_load{}, one).result(patience),
                    std::exception,
                    [](const std::exception& e)
                    { return std::string(e.what()).find("refuses to load") != std::string::npos; });
            }
            BOOST_TEST(small.pool->submit(nap_then_sum, 0, ones(3)).result(patience) == 3);
            BOOST_TEST(small.pool->submit(nap_then_sum, 0, many_values{}).result(patience) == 0);
        }
    }
}

// A task of more descriptors than its worker's socket holds at once fails at once with a clear
// error (EMSGSIZE; it waited for ever under the pool's lock). The datagrams that did go would
// fill the socket: the worker retires and the task queued behind it, and those after, run on a
// fresh one (they failed with ENOBUFS, or lost their descriptors to the drain).
BOOST_AUTO_TEST_CASE(a_task_of_more_descriptors_than_the_socket_holds_fails_not_hangs)
{
    for (const auto method : all_methods)
    {
        BOOST_TEST_CONTEXT(weft::to_string(method))
        {
            pool_with_small_socket small(method);
            for (int i = 0; i < 100; ++i) // timed short: what follows is written behind the nap
            {
                BOOST_TEST(small.pool->submit(nap_then_sum, 0, ones(1)).result(patience) == 1);
            }
            auto napping = small.pool->submit(nap_then_sum, 300, many_values{});
            auto too_many = small.pool->submit(nap_then_sum, 0, ones(2500));
            auto behind = small.pool->submit(nap_then_sum, 0, ones(1));
            BOOST_TEST(napping.result(patience) == 0);
            BOOST_CHECK_EXCEPTION((void)too_many.result(patience), std::system_error,
                                  [](const std::system_error& e)
                                  { return e.code().value() == EMSGSIZE; });
            BOOST_TEST(behind.result(patience) == 1);
            BOOST_TEST(small.pool->submit(nap_then_sum, 0, ones(300)).result(patience) == 300);
        }
    }
}

int main(int argc, char** argv)
{
    // Before main_guard, so that the fork server's workers inherit it too.
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0)
    {
        files.rlim_cur = std::min<rlim_t>(files.rlim_max, 16384);
        (void)::setrlimit(RLIMIT_NOFILE, &files);
    }
    weft::main_guard(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
