#include "executors/processes/detail/child_registry.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <new>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <utility>

#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <system_error>

#include "executors/detail/thread_without_signals.hpp"

namespace weft::detail
{

std::optional<int> child_record::poll()
{
    std::lock_guard lock(m_mutex);
    if (m_exitcode)
    {
        return m_exitcode;
    }
    siginfo_t info{};
    int rc = 0;
    do
    {
        rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(m_pidfd.get()), &info,
                      WEXITED | WNOHANG);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0)
    {
        throw std::system_error(errno, std::system_category(), "weft: waitid");
    }
    if (info.si_pid != 0)
    {
        m_exitcode = info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
    }
    return m_exitcode;
}

void child_record::signal(int signal) noexcept
{
    std::lock_guard lock(m_mutex);
    if (!m_exitcode && m_pidfd.valid())
    {
        (void)::syscall(SYS_pidfd_send_signal, m_pidfd.get(), signal, nullptr, 0);
    }
}

bool child_record::wait_for_exit(int timeout_ms) noexcept
{
    uring::owned_fd watched; // a copy: the process object may close its own once reaped
    {
        std::lock_guard lock(m_mutex);
        if (m_exitcode)
        {
            return true;
        }
        watched = uring::owned_fd(::fcntl(m_pidfd.get(), F_DUPFD_CLOEXEC, 0));
    }
    if (!watched.valid())
    {
        return false;
    }
    pollfd exited{watched.get(), POLLIN, 0};
    int ready = 0;
    do
    {
        ready = ::poll(&exited, 1, timeout_ms);
    } while (ready < 0 && errno == EINTR);
    try
    {
        return poll().has_value();
    }
    catch (const std::system_error&)
    {
        return true; // reaped by someone else (SIGCHLD ignored): gone all the same
    }
}

namespace
{

class registry;

std::mutex g_instance_mutex; // guards g_registry
registry* g_registry = nullptr;
std::atomic<bool> g_reaper_started{false};

class registry
{
  public:
    // Never destroyed: the reaper thread outlives main, and children may exit during exit().
    static registry& instance()
    {
        std::lock_guard lock(g_instance_mutex);
        if (g_registry == nullptr)
        {
            g_registry = new registry();
        }
        return *g_registry;
    }

    // A forked child's children are its own: it starts from an empty registry and its own
    // thread (the parent's did not survive the fork, and its mutexes may not have either).
    static void forget_after_fork() noexcept
    {
        new (&g_instance_mutex) std::mutex();
        if (g_registry != nullptr)
        {
            // Shared with the parent: the child must not add its children to the parent's set.
            ::close(g_registry->m_epoll.get());
        }
        g_registry = nullptr; // leaked: its state belongs to the parent
        g_reaper_started.store(false);
    }

    void add(std::shared_ptr<child_record> child) noexcept
    {
        std::lock_guard lock(m_mutex);
        const std::uint64_t id = ++m_last_id;
        child->registry_id = id;
        epoll_event ready{};
        ready.events = EPOLLIN;
        ready.data.u64 = id;
        try
        {
            m_children.emplace(id, child);
        }
        catch (const std::bad_alloc&)
        {
            return;
        }
        if (::epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, child->pidfd(), &ready) != 0)
        {
            m_children.erase(id);
        }
    }

    // Out of the epoll set before the pidfd closes, and only the same record: a forked child
    // may destroy a copy of a parent's whose number its own fresh registry has given another.
    void forget(const child_record& child) noexcept
    {
        std::lock_guard lock(m_mutex);
        const auto found = m_children.find(child.registry_id);
        if (found != m_children.end() && found->second.get() == &child)
        {
            ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, child.pidfd(), nullptr);
            m_children.erase(found);
        }
    }

    // The registered children, reaped or not (a record's poll() says), listed ones only.
    std::vector<std::shared_ptr<child_record>> snapshot()
    {
        std::lock_guard lock(m_mutex);
        std::vector<std::shared_ptr<child_record>> all;
        all.reserve(m_children.size());
        for (const auto& [id, child] : m_children)
        {
            if (child->listed())
            {
                all.push_back(child);
            }
        }
        return all;
    }

    std::vector<std::shared_ptr<child_record>> running()
    {
        std::vector<std::shared_ptr<child_record>> all = snapshot();
        // Outside the registry's lock: a record's own lock orders its reaping. The reaper
        // thread drops the finished ones from the registry (their pidfds stay readable).
        std::vector<std::shared_ptr<child_record>> alive;
        for (auto& child : all)
        {
            if (!child->poll())
            {
                alive.push_back(std::move(child));
            }
        }
        return alive;
    }

  private:
    registry() : m_epoll(::epoll_create1(EPOLL_CLOEXEC))
    {
        if (!m_epoll.valid())
        {
            throw std::system_error(errno, std::system_category(), "weft: epoll_create1");
        }
        thread_without_signals("weft-reaper", [this] { reap_forever(); }).detach();
        g_reaper_started.store(true);
        // Once per registry, so once per process: a forked child that starts children makes
        // its own, and its handler runs before the one fork_and_run registered to leave.
        (void)std::atexit(&finish_children_at_exit);
    }

    void reap_forever()
    {
        constexpr int batch = 64;
        epoll_event ready[batch];
        for (;;)
        {
            const int n = ::epoll_wait(m_epoll.get(), ready, batch, -1);
            for (int i = 0; i < n; ++i)
            {
                reap(ready[i].data.u64);
            }
            // n < 0 is EINTR (from a debugger): nothing else can fail on a valid epoll fd.
        }
    }

    // A pidfd is readable once its child has exited; it stays readable (level-triggered), so
    // a child reaped first by its process object is dropped here all the same.
    void reap(std::uint64_t id)
    {
        std::shared_ptr<child_record> child;
        {
            std::lock_guard lock(m_mutex);
            const auto found = m_children.find(id);
            if (found == m_children.end())
            {
                return;
            }
            child = found->second;
        }
        bool finished = true;
        try
        {
            finished = child->poll().has_value();
        }
        catch (const std::system_error&)
        {
            // Not ours to reap any more (SIGCHLD ignored, or a waitpid(-1) of the program's):
            // its process object reports the same error; keeping it would spin.
        }
        if (!finished)
        {
            return;
        }
        std::lock_guard lock(m_mutex);
        const auto found = m_children.find(id);
        // Still there: release_child() may have taken it out, and closed its pidfd, meanwhile.
        if (found != m_children.end())
        {
            ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, child->pidfd(), nullptr);
            m_children.erase(found);
        }
    }

    uring::owned_fd m_epoll;
    std::mutex m_mutex; // guards what follows
    std::unordered_map<std::uint64_t, std::shared_ptr<child_record>> m_children;
    std::uint64_t m_last_id = 0;
};

// Any fork, weft's or the program's own, runs this in the child.
const int g_atfork_registered = ::pthread_atfork(nullptr, nullptr, &registry::forget_after_fork);

} // namespace

void start_reaper()
{
    (void)registry::instance();
}

void release_child(const std::shared_ptr<child_record>& child) noexcept
{
    {
        std::lock_guard lock(child->m_mutex);
        if (!child->m_exitcode)
        {
            return;
        }
    }
    registry* const reaper = []
    {
        std::lock_guard lock(g_instance_mutex);
        return g_registry;
    }();
    if (reaper != nullptr)
    {
        reaper->forget(*child);
    }
    // Reaped: neither poll() nor the reaper thread touches the descriptor again.
    std::lock_guard lock(child->m_mutex);
    child->m_pidfd.reset();
}

void register_child(std::shared_ptr<child_record> child) noexcept
{
    registry* const reaper = []
    {
        std::lock_guard lock(g_instance_mutex);
        return g_registry;
    }();
    if (reaper != nullptr) // start_reaper() made it before the child was created
    {
        reaper->add(std::move(child));
    }
}

std::vector<std::shared_ptr<child_record>> running_children()
{
    if (!reaper_started())
    {
        return {};
    }
    return registry::instance().running();
}

void finish_children_at_exit() noexcept
{
    registry* const reaper = []
    {
        std::lock_guard lock(g_instance_mutex);
        return g_registry;
    }();
    if (reaper == nullptr)
    {
        return;
    }
    std::vector<std::shared_ptr<child_record>> children;
    try
    {
        children = reaper->snapshot();
    }
    catch (const std::bad_alloc&)
    {
        return; // the parent-death signal still ends them
    }
    // The daemons first, all within one second from the SIGTERM, so that a child joined below
    // never waits on a daemon that ignores it.
    for (const auto& child : children)
    {
        if (child->daemon())
        {
            child->signal(SIGTERM);
        }
    }
    const auto kill_at = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (const auto& child : children)
    {
        if (!child->daemon())
        {
            continue;
        }
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
            kill_at - std::chrono::steady_clock::now());
        if (!child->wait_for_exit(static_cast<int>(std::max<long long>(left.count(), 0))))
        {
            child->signal(SIGKILL);
        }
    }
    for (const auto& child : children)
    {
        (void)child->wait_for_exit(-1);
    }
}

bool reaper_started() noexcept
{
    return g_reaper_started.load();
}

} // namespace weft::detail
