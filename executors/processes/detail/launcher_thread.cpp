#include "executors/processes/detail/launcher_thread.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <pthread.h>
#include <thread>
#include <unistd.h>
#include <utility>

#include "executors/detail/thread_without_signals.hpp"

namespace weft::detail
{
namespace
{

thread_local const sigset_t* t_requested_mask = nullptr; // a child_signal_mask_scope's
thread_local sigset_t t_child_mask;                      // for the create() running here

class launcher;

std::mutex g_instance_mutex; // guards g_launcher
launcher* g_launcher = nullptr;
std::atomic<bool> g_launcher_started{false};

class launcher
{
  public:
    // Never destroyed: the thread outlives main. A forked child gets a fresh one (see
    // forget_after_fork): the thread did not survive the fork, and the mutex may not have.
    static launcher& instance()
    {
        std::lock_guard lock(g_instance_mutex);
        if (g_launcher == nullptr)
        {
            g_launcher = new launcher();
        }
        return *g_launcher;
    }

    static void forget_after_fork() noexcept
    {
        // The mutex may have been held by another thread at the fork: start from a fresh one.
        new (&g_instance_mutex) std::mutex();
        g_launcher = nullptr; // leaked: its state belongs to the parent
        g_launcher_started.store(false);
    }

    child_handle run(const std::function<child_handle()>& create, const sigset_t& child_mask)
    {
        std::optional<child_handle> value;
        std::exception_ptr error;
        bool done = false;
        {
            std::unique_lock lock(m_mutex);
            if (!m_started)
            {
                thread_without_signals("weft-launcher", [this] { loop(); }).detach();
                m_started = true;
                g_launcher_started.store(true);
            }
            m_jobs.emplace_back(
                [&]
                {
                    t_child_mask = child_mask;
                    try
                    {
                        value.emplace(create());
                    }
                    catch (...)
                    {
                        error = std::current_exception();
                    }
                    std::lock_guard done_lock(m_mutex);
                    done = true;
                    m_done.notify_all();
                });
            m_work.notify_one();
            m_done.wait(lock, [&] { return done; });
        }
        if (error)
        {
            std::rethrow_exception(error);
        }
        return std::move(*value);
    }

  private:
    launcher() = default;

    void loop()
    {
        std::unique_lock lock(m_mutex);
        for (;;)
        {
            m_work.wait(lock, [this] { return !m_jobs.empty(); });
            std::function<void()> job = std::move(m_jobs.front());
            m_jobs.pop_front();
            lock.unlock();
            job();
            lock.lock();
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_work;
    std::condition_variable m_done;
    std::deque<std::function<void()>> m_jobs;
    bool m_started = false;
};

// Any fork, weft's or the program's own, runs this in the child.
const int g_atfork_registered = ::pthread_atfork(nullptr, nullptr, &launcher::forget_after_fork);

} // namespace

child_handle on_long_lived_thread(const std::function<child_handle()>& create)
{
    const sigset_t mask = t_requested_mask != nullptr ? *t_requested_mask : current_signal_mask();
    if (::gettid() == ::getpid())
    {
        t_child_mask = mask;
        return create();
    }
    return launcher::instance().run(create, mask);
}

const sigset_t& child_signal_mask() noexcept
{
    return t_child_mask;
}

child_signal_mask_scope::child_signal_mask_scope(const sigset_t& mask) noexcept
    : m_before(t_requested_mask)
{
    t_requested_mask = &mask;
}

child_signal_mask_scope::~child_signal_mask_scope()
{
    t_requested_mask = m_before;
}

bool launcher_started() noexcept
{
    return g_launcher_started.load();
}

} // namespace weft::detail
