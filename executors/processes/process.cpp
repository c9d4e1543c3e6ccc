#include "executors/processes/process.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <sys/syscall.h>
#include <sys/wait.h>
#include <system_error>

#include "executors/processes/detail/child_registry.hpp"
#include "executors/processes/detail/launch.hpp"
#include "runtime/errors.hpp"
#include "runtime/uring/owned_fd.hpp"
#include "runtime/uring/poll_operation.hpp"

namespace weft
{
namespace detail
{

struct process_state
{
    std::string name;
    bool daemon = false;
    weft::start_method method = weft::start_method::forkserver;
    std::unique_ptr<process_target> target;

    // The process that started the child: only it can wait for the child's exit (Python's
    // "can only join a child process"). Read before taking the mutex, which a forked child of
    // that process may have inherited locked.
    std::atomic<pid_t> started_by{0};

    std::mutex mutex; // guards what follows
    bool started = false;
    bool closed = false;
    // Shared with the reaper thread, which may reap the child first; kept until close(): a
    // joiner may be polling its pidfd.
    std::shared_ptr<child_record> child;

    ~process_state()
    {
        if (child)
        {
            release_child(child);
        }
    }
};

} // namespace detail

namespace
{

std::atomic<unsigned> g_process_count{0};

int threads_in_this_process()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
    {
        if (line.rfind("Threads:", 0) == 0)
        {
            return std::stoi(line.substr(8));
        }
    }
    return 1;
}

void require_open(const detail::process_state& state)
{
    if (state.closed)
    {
        throw invalid_state_error("weft: process object is closed");
    }
}

void require_started(const detail::process_state& state, const char* what)
{
    require_open(state);
    if (!state.started)
    {
        throw invalid_state_error(std::string("weft: can only ") + what + " a started process");
    }
}

// In a process other than the one that started the child (a fork child holding a copy of the
// object), the child's exit cannot be observed and its locks may be copies held by a thread
// that is not there: refuse, as Python's assertions do.
void require_starter(const detail::process_state& state, const char* what)
{
    const pid_t starter = state.started_by.load(std::memory_order_acquire);
    if (starter != 0 && starter != ::getpid())
    {
        throw invalid_state_error(
            std::string("weft: can only ") + what + " a child process: process " + state.name +
            " was started by pid " + std::to_string(starter) + ", not by this one");
    }
}

// Reaps the child if it has exited (never waits); true once it has.
bool reap(detail::process_state& state)
{
    return state.child->poll().has_value();
}

} // namespace

// Python 3.12 warns too: the seeds' held-lock hang is a fork from a threaded process. weft's
// own launcher thread (launcher_thread.cpp) holds nothing while it waits, and a fork forgets
// the reaper thread's locks (child_registry.cpp): neither counts. Another pool's collector
// thread does count: it runs user callbacks (add_done_callback, apply_async's), which may hold
// the user's locks at the moment of the fork.
void detail::warn_if_threaded_fork()
{
    static std::atomic<bool> warned{false};
    const int others = threads_in_this_process() - 1 - (detail::launcher_started() ? 1 : 0) -
                       (detail::reaper_started() ? 1 : 0);
    if (others > 0 && !warned.exchange(true))
    {
        std::fprintf(stderr,
                     "weft: warning: start_method::fork in a process with %d other thread(s): the "
                     "child gets only the forking thread, and a lock another thread holds stays "
                     "locked in the child forever; start_method::forkserver or spawn avoid this\n",
                     others);
    }
}

process::process(options opts, std::unique_ptr<detail::process_target> target)
    : m_state(std::make_unique<detail::process_state>())
{
    const unsigned number = g_process_count.fetch_add(1) + 1;
    m_state->name = opts.name.empty() ? "Process-" + std::to_string(number) : std::move(opts.name);
    m_state->daemon = opts.daemon;
    m_state->method = opts.start_method.value_or(get_start_method());
    m_state->target = std::move(target);
}

process::process(process&&) noexcept = default;

process& process::operator=(process&& other) noexcept
{
    if (this != &other)
    {
        process old(std::move(*this));
        m_state = std::move(other.m_state);
    }
    return *this;
}

process::~process()
{
    if (!m_state)
    {
        return;
    }
    try
    {
        std::unique_lock lock(m_state->mutex);
        if (!m_state->started || m_state->closed || reap(*m_state))
        {
            return;
        }
        lock.unlock();
        if (m_state->daemon)
        {
            terminate();
            if (!join(std::chrono::seconds(1)))
            {
                kill();
            }
        }
        join();
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "weft: process %s: %s\n", m_state->name.c_str(), e.what());
    }
}

void process::start()
{
    auto& state = *m_state;
    std::lock_guard lock(state.mutex);
    require_open(state);
    if (state.started)
    {
        throw invalid_state_error("weft: processes can only be started once");
    }
    detail::check_can_start(state.method != weft::start_method::fork);
    detail::start_reaper();
    detail::child_handle child;
    detail::attachments attached; // the shared memory among the arguments, passed as descriptors
    switch (state.method)
    {
    case weft::start_method::fork:
        detail::warn_if_threaded_fork();
        child =
            detail::fork_and_run([&state] { state.target->run_here(); }, state.name, state.daemon);
        break;
    case weft::start_method::spawn:
    {
        const std::string payload = state.target->encode(state.name, state.daemon, attached);
        child = detail::spawn_payload(payload, attached.fds());
        break;
    }
    case weft::start_method::forkserver:
    {
        const std::string payload = state.target->encode(state.name, state.daemon, attached);
        child = detail::forkserver_payload(payload, attached.fds());
        break;
    }
    }
    state.child =
        std::make_shared<detail::child_record>(std::move(child), state.name, state.daemon);
    state.started = true;
    state.started_by.store(::getpid(), std::memory_order_release);
    state.target.reset(); // the child has its copy
    detail::register_child(state.child);
}

bool process::join_until(detail::deadline until)
{
    auto& state = *m_state;
    require_starter(state, "join");
    for (;;)
    {
        int fd = -1;
        {
            std::lock_guard lock(state.mutex);
            require_started(state, "join");
            if (reap(state))
            {
                return true;
            }
            fd = state.child->pidfd();
        }
        int wait_ms = -1;
        if (!until.is_never())
        {
            const auto left = until.at() - detail::deadline::clock::now();
            if (left <= left.zero())
            {
                return false;
            }
            const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
            wait_ms = static_cast<int>(std::min<long long>(ms, INT_MAX));
        }
        pollfd exited{fd, POLLIN, 0};
        if (::poll(&exited, 1, wait_ms) < 0 && errno != EINTR)
        {
            throw std::system_error(errno, std::system_category(), "weft: poll on a pidfd");
        }
    }
}

task<void> process::async_join()
{
    auto& state = *m_state;
    require_starter(state, "join");
    for (;;)
    {
        int fd = -1;
        {
            std::lock_guard lock(state.mutex);
            require_started(state, "join");
            if (reap(state))
            {
                co_return;
            }
            fd = state.child->pidfd();
        }
        co_await uring::poll_operation(fd, POLLIN);
    }
}

bool process::is_alive()
{
    auto& state = *m_state;
    require_starter(state, "test");
    std::lock_guard lock(state.mutex);
    require_open(state);
    return state.started && !reap(state);
}

std::optional<int> process::exitcode()
{
    auto& state = *m_state;
    require_starter(state, "test");
    std::lock_guard lock(state.mutex);
    require_open(state);
    return state.started ? state.child->poll() : std::nullopt;
}

std::optional<pid_t> process::pid() const
{
    auto& state = *m_state;
    std::lock_guard lock(state.mutex);
    require_open(state);
    return state.started ? std::optional<pid_t>(state.child->pid()) : std::nullopt;
}

void process::send_signal(int signal)
{
    auto& state = *m_state;
    require_starter(state, "signal");
    std::lock_guard lock(state.mutex);
    require_started(state, "signal");
    if (reap(state))
    {
        return;
    }
    // A pidfd names this child even after it exits, so the signal cannot reach a stranger
    // that reused the pid; ESRCH only means it has already exited.
    if (::syscall(SYS_pidfd_send_signal, state.child->pidfd(), signal, nullptr, 0) != 0 &&
        errno != ESRCH)
    {
        throw std::system_error(errno, std::system_category(), "weft: pidfd_send_signal");
    }
}

void process::terminate()
{
    send_signal(SIGTERM);
}

void process::kill()
{
    send_signal(SIGKILL);
}

void process::close()
{
    auto& state = *m_state;
    require_starter(state, "close");
    std::lock_guard lock(state.mutex);
    if (state.closed)
    {
        return;
    }
    if (state.started && !reap(state))
    {
        throw invalid_state_error(
            "weft: cannot close a process while it is still running; join or terminate it first");
    }
    if (state.child)
    {
        detail::release_child(state.child);
        state.child.reset();
    }
    state.target.reset();
    state.closed = true;
}

const std::string& process::name() const
{
    return m_state->name;
}

bool process::daemon() const
{
    return m_state->daemon;
}

weft::start_method process::start_method() const
{
    return m_state->method;
}

std::vector<active_child> active_children()
{
    std::vector<active_child> alive;
    for (const auto& child : detail::running_children())
    {
        alive.push_back({child->name(), child->pid()});
    }
    return alive;
}

} // namespace weft
