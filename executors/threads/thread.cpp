#include "executors/threads/thread.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <pthread.h>
#include <unistd.h>

#include "runtime/errors.hpp"

namespace weft
{

namespace detail
{

// What the OS thread and the weft::thread object share; the OS thread keeps it alive after
// a daemon's object is gone.
struct thread_state
{
    std::string name;
    std::mutex mutex;
    std::condition_variable changed; // signalled when `running` or `finished` becomes true
    std::thread::id ident;           // guarded by mutex, as the rest below
    pid_t native_id = 0;
    bool running = false;
    bool finished = false;
};

} // namespace detail

namespace
{

std::atomic<unsigned long> g_unnamed_threads{0};

// The name current_thread_name() reports; unset on threads weft neither made nor named.
thread_local std::string t_name;
thread_local bool t_named = false;

void name_this_thread(const std::string& name)
{
    t_name = name;
    t_named = true;
    // The kernel keeps 15 bytes and a terminator; longer names make the call fail.
    const std::string truncated = name.substr(0, 15);
    (void)::pthread_setname_np(::pthread_self(), truncated.c_str());
}

} // namespace

thread::thread(options opts)
    : m_state(std::make_shared<detail::thread_state>()), m_daemon(opts.daemon)
{
    m_state->name =
        opts.name.empty() ? "Thread-" + std::to_string(++g_unnamed_threads) : std::move(opts.name);
}

thread::~thread()
{
    std::thread os_thread;
    {
        std::lock_guard<std::mutex> held(m_mutex);
        os_thread = std::move(m_thread);
    }
    // Joined without m_mutex held: the target may still call is_alive() or name() on us.
    if (!os_thread.joinable())
    {
        return;
    }
    // A thread that destroys its own object cannot join itself.
    if (m_daemon || os_thread.get_id() == std::this_thread::get_id())
    {
        os_thread.detach();
    }
    else
    {
        os_thread.join();
    }
}

void thread::start()
{
    {
        std::lock_guard<std::mutex> held(m_mutex);
        if (m_started)
        {
            throw invalid_state_error("weft: thread: threads can only be started once");
        }
        m_thread = std::thread(
            [state = m_state, body = std::move(m_target), self = this]() mutable
            {
                name_this_thread(state->name);
                {
                    std::lock_guard<std::mutex> held(state->mutex);
                    state->ident = std::this_thread::get_id();
                    state->native_id = ::gettid();
                    state->running = true;
                    state->changed.notify_all();
                }
                try
                {
                    if (body)
                    {
                        body();
                    }
                    else
                    {
                        self->run();
                    }
                }
                catch (const std::exception& e)
                {
                    std::fprintf(stderr, "Exception in thread %s:\n%s\n", state->name.c_str(),
                                 e.what());
                }
                catch (...)
                {
                    std::fprintf(stderr, "Exception in thread %s:\nunknown exception\n",
                                 state->name.c_str());
                }
                // The target and its arguments die before join() can return, as in Python.
                body = detail::thread_body();
                std::lock_guard<std::mutex> held(state->mutex);
                state->finished = true;
                state->changed.notify_all();
            });
        m_started = true;
    }
    // As Python's start(): return only once the thread runs, so ident() and native_id() hold.
    std::unique_lock<std::mutex> held(m_state->mutex);
    m_state->changed.wait(held, [&] { return m_state->running; });
}

bool thread::join_until(detail::deadline when)
{
    {
        std::lock_guard<std::mutex> held(m_mutex);
        if (!m_started)
        {
            throw invalid_state_error("weft: thread: cannot join thread before it is started");
        }
        if (m_thread.get_id() == std::this_thread::get_id())
        {
            throw invalid_state_error("weft: thread: cannot join current thread");
        }
    }
    {
        std::unique_lock<std::mutex> held(m_state->mutex);
        if (!when.wait(m_state->changed, held, [&] { return m_state->finished; }))
        {
            return false;
        }
    }
    std::lock_guard<std::mutex> held(m_mutex);
    if (m_thread.joinable())
    {
        m_thread.join();
    }
    return true;
}

bool thread::is_alive() const
{
    {
        std::lock_guard<std::mutex> held(m_mutex);
        if (!m_started)
        {
            return false;
        }
    }
    std::lock_guard<std::mutex> held(m_state->mutex);
    return !m_state->finished;
}

std::thread::id thread::ident() const
{
    std::lock_guard<std::mutex> held(m_state->mutex);
    return m_state->ident;
}

pid_t thread::native_id() const
{
    std::lock_guard<std::mutex> held(m_state->mutex);
    return m_state->native_id;
}

const std::string& thread::name() const noexcept
{
    return m_state->name;
}

std::string current_thread_name()
{
    if (t_named)
    {
        return t_name;
    }
    if (::gettid() == ::getpid())
    {
        return "MainThread";
    }
    char os_name[16] = {};
    if (::pthread_getname_np(::pthread_self(), os_name, sizeof os_name) != 0)
    {
        return "Dummy";
    }
    return os_name;
}

void set_current_thread_name(std::string name)
{
    name_this_thread(name);
}

} // namespace weft
