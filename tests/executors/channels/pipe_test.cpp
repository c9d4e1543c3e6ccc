// pipe and connection: the seeds' ten messages from a child, end of file once the other end is
// closed everywhere, one-way pipes, poll, large byte messages, shared memory in a message, the
// coroutine forms, close() waking a receive in another thread, a thread and a coroutine
// taking turns on one end, and a child forked while threads of the parent wait in recv() or
// for their turn.
#define BOOST_TEST_MODULE pipe
#define BOOST_TEST_NO_MAIN
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <weft/weft.hpp>

#include <boost/test/unit_test.hpp>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../processes/pool_test_support.hpp"
#include "executors/channels/detail/frame_io.hpp"

using namespace std::chrono_literals;
using weft::connection;
using weft::start_method;
using weft::test::all_methods;
using weft::test::patience;

namespace
{

void send_ten(connection<std::string> out)
{
    for (int i = 0; i < 10; ++i)
    {
        out.send("message " + std::to_string(i));
    }
    out.close();
}

void echo_bytes(connection<std::string> end)
{
    const std::string bytes = end.recv_bytes();
    end.send_bytes(bytes);
}

void bump(connection<weft::shared_value<int>> in)
{
    weft::shared_value<int> v = in.recv();
    v.set(v.get() + 1);
}

// Runs `child` in a process made by a plain fork() (its return value is the exit status; an
// exception: 99; it never touches Boost.Test, whose state is the parent's), `parent` here
// meanwhile, and returns the child's exit status (-1: it was still running after `patience`,
// and is killed).
int status_of_forked_child(const std::function<int()>& child, const std::function<void()>& parent)
{
    const pid_t pid = ::fork();
    if (pid == 0)
    {
        int code = 99;
        try
        {
            code = child();
        }
        catch (...)
        {
        }
        ::_exit(code);
    }
    BOOST_REQUIRE(pid > 0);
    parent();
    int status = 0;
    for (const auto until = std::chrono::steady_clock::now() + patience;;)
    {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid)
        {
            return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
        }
        if (std::chrono::steady_clock::now() > until)
        {
            ::kill(pid, SIGKILL);
            (void)::waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(10ms);
    }
}

// A receive that waits in another thread until its end is closed; the thread's id goes into
// `id` (for wait_until_asleep_in) before it receives.
std::thread receive_until_closed(connection<std::string> end, std::atomic<pid_t>* id = nullptr)
{
    return std::thread(
        [end, id]() mutable
        {
            if (id != nullptr)
            {
                id->store(::gettid());
            }
            try
            {
                (void)end.recv();
            }
            catch (const std::exception&) // closed: invalid_state_error
            {
            }
        });
}

// Waits (at most `patience`) until thread `id` of this process sleeps in system call `number`
// with `first` as its first argument (-1: any): whatever the thread does before that call is
// done then, however loaded the machine. A sleep or a queue running empty would tell neither.
// Where /proc does not show a thread's system call, it settles for a pause.
bool wait_until_asleep_in(const std::atomic<pid_t>& id, long number, long first = -1)
{
    const auto until = std::chrono::steady_clock::now() + patience;
    for (; id.load() == 0; std::this_thread::sleep_for(1ms))
    {
        if (std::chrono::steady_clock::now() > until)
        {
            return false;
        }
    }
    const std::string task = "/proc/self/task/" + std::to_string(id.load());
    for (;; std::this_thread::sleep_for(1ms))
    {
        // "running", or the number and arguments in hex, then the stack and program counters.
        std::ifstream syscall_file(task + "/syscall");
        std::string call;
        std::string argument;
        if (!(syscall_file >> call))
        {
            std::this_thread::sleep_for(100ms);
            return true;
        }
        syscall_file >> argument;
        // "pid (name) state ...": asleep is S. A thread woken from a futex still shows the
        // call until it runs, so the call alone would not say it waits there.
        std::ifstream stat_file(task + "/stat");
        std::string stat;
        std::getline(stat_file, stat);
        const std::size_t name_end = stat.rfind(')');
        const bool asleep = name_end != std::string::npos && name_end + 2 < stat.size() &&
                            stat[name_end + 2] == 'S';
        if (asleep && call == std::to_string(number) &&
            (first < 0 || std::stol(argument, nullptr, 16) == first))
        {
            return true;
        }
        if (std::chrono::steady_clock::now() > until)
        {
            return false;
        }
    }
}

} // namespace

// Every case must leave no descriptor, segment, /dev/shm name or zombie behind.
BOOST_FIXTURE_TEST_SUITE(pipe_cases, weft::test::leak_check)

BOOST_AUTO_TEST_CASE(ten_messages_then_end_of_file_under_every_start_method)
{
    for (const start_method method : all_methods)
    {
        auto [parent_end, child_end] = weft::pipe<std::string>();
        weft::process child({.start_method = method}, send_ten, child_end);
        child.start();
        child_end.close(); // ours: the child has its own
        for (int i = 0; i < 10; ++i)
        {
            BOOST_TEST(parent_end.recv() == "message " + std::to_string(i));
        }
        child.join(patience);
        BOOST_CHECK_THROW((void)parent_end.recv(), weft::eof_error);
    }
}

BOOST_AUTO_TEST_CASE(a_one_way_pipe_refuses_the_other_way)
{
    auto [reader, writer] = weft::pipe<int>(false);
    BOOST_TEST(reader.readable());
    BOOST_TEST(!reader.writable());
    BOOST_TEST(!writer.readable());
    writer.send(5);
    BOOST_TEST(reader.recv() == 5);
    BOOST_CHECK_THROW(reader.send(1), weft::invalid_state_error);
    BOOST_CHECK_THROW((void)writer.recv(), weft::invalid_state_error);
    writer.close();
    BOOST_CHECK_THROW((void)reader.recv(), weft::eof_error);
    BOOST_CHECK_THROW(writer.send(1), weft::invalid_state_error); // closed handle
}

BOOST_AUTO_TEST_CASE(poll_waits_for_a_message)
{
    auto [a, b] = weft::pipe<int>();
    BOOST_TEST(!a.poll());
    BOOST_TEST(!a.poll(20ms));
    std::thread later(
        [&b]
        {
            std::this_thread::sleep_for(30ms);
            b.send(1);
        });
    BOOST_TEST(a.poll(patience));
    BOOST_TEST(a.recv() == 1);
    later.join();
}

BOOST_AUTO_TEST_CASE(a_large_byte_message_goes_both_ways)
{
    auto [here, there] = weft::pipe<std::string>();
    weft::process child({.start_method = start_method::spawn}, echo_bytes, there);
    child.start();
    std::string big(8 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i)
    {
        big[i] = static_cast<char>(i * 131 % 251);
    }
    here.send_bytes(big);
    BOOST_TEST((here.recv_bytes() == big));
    child.join(patience);
}

BOOST_AUTO_TEST_CASE(shared_memory_in_a_message_is_the_same_memory)
{
    auto [here, there] = weft::pipe<weft::shared_value<int>>();
    weft::process child({.start_method = start_method::forkserver}, bump, there);
    child.start();
    weft::shared_value<int> v(41);
    here.send(v);
    child.join(patience);
    BOOST_TEST(v.get() == 42);
}

BOOST_AUTO_TEST_CASE(coroutines_send_and_receive_through_the_loop)
{
    auto [a, b] = weft::pipe<std::string>();
    weft::event_loop loop;
    auto body = [&]() -> weft::task<std::string>
    {
        weft::process child(
            {.start_method = start_method::forkserver},
            +[](connection<std::string> end)
            {
                const std::string got = end.recv();
                std::this_thread::sleep_for(50ms);
                end.send(got + " back");
            },
            b);
        child.start();
        co_await a.async_send("there and");
        std::string reply = co_await a.async_recv();
        child.join(patience);
        co_return reply;
    };
    BOOST_TEST(loop.run(body()) == "there and back");
}

BOOST_AUTO_TEST_CASE(close_from_another_thread_wakes_a_blocked_receive)
{
    auto [a, b] = weft::pipe<int>();
    std::promise<std::string> outcome;
    std::thread receiver(
        [&, a = a]() mutable
        {
            try
            {
                outcome.set_value("received " + std::to_string(a.recv()));
            }
            catch (const weft::invalid_state_error&)
            {
                outcome.set_value("closed");
            }
            catch (const weft::eof_error&)
            {
                outcome.set_value("closed");
            }
        });
    std::this_thread::sleep_for(50ms); // the receiver is waiting by now
    std::thread closer([&, a = a]() mutable { a.close(); });
    std::future<std::string> got = outcome.get_future();
    const bool woke = got.wait_for(5s) == std::future_status::ready; // promptly: within 5 s
    if (!woke)
    {
        b.send(0); // lets a receiver that was not woken return, so that the test ends
    }
    receiver.join();
    closer.join();
    BOOST_TEST(woke);
    BOOST_TEST(got.get() == "closed");
    BOOST_TEST(a.closed());
}

BOOST_AUTO_TEST_CASE(close_from_another_thread_or_coroutine_wakes_a_coroutine_receive)
{
    auto [a, b] = weft::pipe<int>();
    weft::event_loop loop;
    std::thread closer(
        [&, a = a]() mutable
        {
            std::this_thread::sleep_for(50ms);
            a.close();
        });
    auto receive = [&]() -> weft::task<std::string>
    {
        try
        {
            const int got = co_await weft::with_timeout(5s, a.async_recv());
            co_return "received " + std::to_string(got);
        }
        catch (const weft::invalid_state_error&)
        {
            co_return "closed";
        }
        catch (const weft::timeout_error&)
        {
            co_return "not woken";
        }
    };
    BOOST_TEST(loop.run(receive()) == "closed");
    closer.join();

    // and a close() from another coroutine on the same loop
    auto [c, d] = weft::pipe<int>();
    auto receive_c = [&]() -> weft::task<std::string>
    {
        try
        {
            const int got = co_await weft::with_timeout(5s, c.async_recv());
            co_return "received " + std::to_string(got);
        }
        catch (const weft::invalid_state_error&)
        {
            co_return "closed";
        }
        catch (const weft::timeout_error&)
        {
            co_return "not woken";
        }
    };
    auto close_c = [&]() -> weft::task<void>
    {
        co_await weft::sleep_for(50ms);
        c.close();
    };
    auto both = [&]() -> weft::task<std::string>
    {
        auto [got, closed] = co_await weft::when_all(receive_c(), close_c());
        (void)closed;
        co_return got;
    };
    BOOST_TEST(loop.run(both()) == "closed");
}

BOOST_AUTO_TEST_CASE(a_thread_and_a_coroutine_sending_on_one_end_take_turns)
{
    // Each message is larger than the socket's buffer, so a sender waits in the middle of it:
    // without turns the other's bytes would land inside it.
    constexpr int each = 16;
    const std::string xs(1 << 20, 'x');
    const std::string ys(1 << 20, 'y');
    auto [a, b] = weft::pipe<std::string>();
    int x = 0;
    int y = 0;
    int mixed = 0;
    std::string receive_failure;
    std::thread receiver(
        [&, b = b]() mutable
        {
            try
            {
                for (;;)
                {
                    const std::string got = b.recv();
                    (got == xs ? x : got == ys ? y : mixed) += 1;
                }
            }
            catch (const weft::eof_error&)
            {
            }
            catch (const std::exception& e)
            {
                receive_failure = e.what();
                b.close(); // a garbled stream: the senders fail rather than wait forever
            }
        });
    std::string blocking_failure;
    std::thread blocking_sender(
        [&, a = a]() mutable
        {
            try
            {
                for (int i = 0; i < each; ++i)
                {
                    a.send(xs);
                }
            }
            catch (const std::exception& e)
            {
                blocking_failure = e.what();
            }
        });
    weft::event_loop loop;
    auto async_sender = [&]() -> weft::task<void>
    {
        for (int i = 0; i < each; ++i)
        {
            co_await a.async_send(ys);
        }
    };
    std::string async_failure;
    try
    {
        loop.run(weft::with_timeout(patience, async_sender()));
    }
    catch (const std::exception& e)
    {
        async_failure = e.what();
    }
    blocking_sender.join();
    a.close(); // the receiver reads to the end of file
    receiver.join();
    BOOST_TEST(blocking_failure == "");
    BOOST_TEST(async_failure == "");
    BOOST_TEST(receive_failure == "");
    BOOST_TEST(mixed == 0);
    BOOST_TEST(x == each);
    BOOST_TEST(y == each);
}

// A child forked while a thread of the parent waits in recv() inherits the end with that
// thread's turn held: the turn is the parent's thread's, which the child does not have, and the
// child's first receive used to wait for it for ever. The child adopts the end instead: with
// nothing of a message read at the fork, it receives and sends as any process holding an end.
BOOST_AUTO_TEST_CASE(a_child_forked_while_a_thread_waits_in_recv_can_use_the_end)
{
    auto [a, b] = weft::pipe<std::string>();
    std::atomic<pid_t> receiving{0};
    std::thread receiver = receive_until_closed(a, &receiving);
    // In recvmsg with its turn taken, nothing read: its end marked between messages.
    BOOST_REQUIRE(wait_until_asleep_in(receiving, SYS_recvmsg));
    int go[2] = {-1, -1};
    BOOST_REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
    const weft::uring::owned_fd go_read(go[0]);
    weft::uring::owned_fd go_write(go[1]);
    const int status = status_of_forked_child(
        [&]
        {
            // Until the parent's receiver is gone, it would race this process for the message.
            char byte = 0;
            if (::read(go_read.get(), &byte, 1) != 1)
            {
                return 3;
            }
            b.send("to the child");
            if (a.recv() != "to the child")
            {
                return 4;
            }
            a.send("from the child");
            return b.recv() == "from the child" ? 0 : 5;
        },
        [&]
        {
            a.close();
            receiver.join();
            const char byte = 1;
            BOOST_REQUIRE(::write(go_write.get(), &byte, 1) == 1);
            go_write.reset();
        });
    BOOST_TEST(status == 0);
}

// Had the parent's thread read part of a message, where the next one starts is not known in
// the child: its receive throws (rather than hand out the rest as messages); it still sends.
BOOST_AUTO_TEST_CASE(a_child_forked_in_the_middle_of_a_message_cannot_receive_but_sends)
{
    int ends[2] = {-1, -1};
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
    const weft::uring::owned_fd peer(ends[1]);
    connection<std::string> a(weft::uring::owned_fd{ends[0]}, true, true);
    // A frame header (u64 body length 200, u64 descriptors and reserved: none), no body yet.
    const std::uint64_t header[2] = {200, 0};
    BOOST_REQUIRE(::send(peer.get(), header, sizeof header, MSG_NOSIGNAL) == sizeof header);
    std::atomic<pid_t> receiving{0};
    std::thread receiver = receive_until_closed(a, &receiving);
    // The body is read straight into place with recv (recvfrom), the header with recvmsg: in
    // recvfrom, the receiver has the header and waits for the body.
    BOOST_REQUIRE(wait_until_asleep_in(receiving, SYS_recvfrom, ends[0]));
    const int status = status_of_forked_child(
        [&]
        {
            try
            {
                (void)a.recv_bytes();
                return 3;
            }
            catch (const weft::invalid_state_error& e)
            {
                if (std::string(e.what()).find("forked") == std::string::npos)
                {
                    return 4;
                }
            }
            a.send_bytes("still sends");
            return 0;
        },
        [] {});
    a.close();
    receiver.join();
    BOOST_TEST(status == 0);
    char got[64] = {};
    const weft::detail::frame_header sent{};
    BOOST_REQUIRE(::recv(peer.get(), got, sizeof sent + 11, MSG_WAITALL) ==
                  static_cast<ssize_t>(sizeof sent + 11));
    BOOST_TEST(std::string(got + sizeof sent, 11) == "still sends");
}

// A child that drops an inherited end without using it: destroying the end destroyed the
// parent's condition variable there, which waits for the parent's thread waiting on it (for
// its turn) to leave: a thread the child does not have, so the child hung. The destructor
// adopts the end first.
BOOST_AUTO_TEST_CASE(a_child_forked_while_a_thread_waits_for_its_turn_can_drop_the_end_unused)
{
    auto [first, b] = weft::pipe<std::string>();
    // The only handle: the threads use it by reference, so the child's reset destroys the end.
    std::optional<connection<std::string>> a(std::move(first));
    const auto receive = [&a](std::atomic<pid_t>& id)
    {
        return std::thread(
            [&a, &id]
            {
                id.store(::gettid());
                try
                {
                    (void)a->recv();
                }
                catch (const std::exception&) // closed: invalid_state_error
                {
                }
            });
    };
    std::atomic<pid_t> holding{0};
    std::thread holder = receive(holding);
    BOOST_REQUIRE(wait_until_asleep_in(holding, SYS_recvmsg)); // the turn is taken
    std::atomic<pid_t> waiting{0};
    std::thread waiter = receive(waiting);
    // Asleep in a futex while the turn's holder is in recvmsg (not holding the lock): on the
    // condition variable.
    BOOST_REQUIRE(wait_until_asleep_in(waiting, SYS_futex));
    const int status = status_of_forked_child(
        [&]
        {
            a.reset();
            return 0;
        },
        [] {});
    a->close();
    holder.join();
    waiter.join();
    a.reset();
    BOOST_TEST(status == 0);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    weft::test::start_forkserver(); // its socket stays open: opened before any case counts
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
