// Ctrl-C while a process pool works, handled by the event loop (Python's Pool.map ignores
// KeyboardInterrupt and hangs; its workers print tracebacks). The workers ignore the
// terminal's SIGINT; the parent reads it from a signalfd on its loop and shuts the pool down in
// bounded time: the frames not started are cancelled, those running get a grace period, and a
// worker still busy after it is killed. The program sends itself the SIGINT that a Ctrl-C in
// the terminal would, once the first frames are in.
#include <chrono>
#include <cstdio>
#include <poll.h>
#include <signal.h>
#include <thread>
#include <unistd.h>
#include <vector>
#include <weft/weft.hpp>

#include <sys/signalfd.h>

using namespace std::chrono_literals;

namespace
{

constexpr auto grace = 500ms;

// Frame 0 takes 30 s; the others 100 ms each.
int render_frame(int frame)
{
    std::this_thread::sleep_for(frame == 0 ? std::chrono::milliseconds(30s) : 100ms);
    return frame;
}

weft::task<int> render(weft::process_pool_executor& pool, int signal_fd)
{
    auto slow = pool.submit(render_frame, 0);
    std::vector<weft::future<int>> frames;
    for (int frame = 1; frame <= 8; ++frame)
    {
        frames.push_back(pool.submit(render_frame, frame));
    }
    for (int i = 0; i < 2; ++i)
    {
        std::printf("frame %d rendered\n", co_await frames[static_cast<std::size_t>(i)]);
    }
    std::fflush(stdout);
    ::kill(::getpid(), SIGINT); // what the terminal sends on Ctrl-C

    co_await weft::uring::poll_operation(signal_fd, POLLIN);
    signalfd_siginfo info{};
    if (::read(signal_fd, &info, sizeof info) != static_cast<ssize_t>(sizeof info) ||
        info.ssi_signo != SIGINT)
    {
        co_return 1;
    }
    std::printf("SIGINT: cancelling the frames not started; %lld ms for those running\n",
                static_cast<long long>(grace.count()));
    const auto started = std::chrono::steady_clock::now();
    pool.shutdown_within(grace);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);

    int finished = 0;
    int cancelled = 0;
    for (auto& f : frames)
    {
        if (f.cancelled())
        {
            ++cancelled;
        }
        else
        {
            (void)f.result();
            ++finished;
        }
    }
    bool killed = false;
    try
    {
        (void)slow.result();
    }
    catch (const weft::pool_terminated_error& e)
    {
        killed = true;
        std::printf("frame 0: %s\n", e.what());
    }
    std::printf("frames 1-8: %d rendered, %d cancelled\n", finished, cancelled);
    std::printf("pool down %lld ms after the interrupt (grace %lld ms)\n",
                static_cast<long long>(took.count()), static_cast<long long>(grace.count()));
    co_return killed&& finished + cancelled == 8 && cancelled > 0 && took < grace + 5s ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    // Blocked first, so that every thread the program starts later inherits the block and the
    // signal is only readable from the signalfd (weft's own threads block every signal anyway).
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    if (::sigprocmask(SIG_BLOCK, &signals, nullptr) != 0)
    {
        std::perror("pool_ctrl_c: sigprocmask");
        return 1;
    }
    const weft::uring::owned_fd signal_fd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!signal_fd.valid())
    {
        std::perror("pool_ctrl_c: signalfd");
        return 1;
    }
    weft::process_pool_executor pool({.max_workers = 2});
    weft::event_loop loop;
    return loop.run(render(pool, signal_fd.get()));
}
