#include "runtime/event_loop.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <unistd.h>
#include <utility>

#include <sys/eventfd.h>
#include <system_error>

namespace weft
{
namespace
{
// Restores the thread's current loop when run() leaves, by return or by exception.
class current_loop_scope
{
  public:
    explicit current_loop_scope(event_loop* loop) noexcept : m_previous(detail::current_loop)
    {
        detail::current_loop = loop;
    }
    ~current_loop_scope() { detail::current_loop = m_previous; }
    current_loop_scope(const current_loop_scope&) = delete;
    current_loop_scope& operator=(const current_loop_scope&) = delete;

  private:
    event_loop* m_previous;
};
} // namespace

void detail::cancel_callback::operator()() const noexcept
{
    loop->request_cancel(*target);
}

void detail::report_spawned_exception(std::exception_ptr error) noexcept
{
    try
    {
        std::rethrow_exception(error);
    }
    catch (const operation_cancelled&)
    {
        // Cancellation is how spawned work is told to stop: not worth a report.
        return;
    }
    catch (...)
    {
    }
    // A spawned task only runs inside a turn of its loop, on the loop's thread.
    if (event_loop* loop = event_loop::current())
    {
        loop->report_unhandled(std::move(error));
    }
    else
    {
        std::fprintf(stderr, "weft: exception escaped a spawned task outside its loop\n");
    }
}

event_loop::event_loop(options opts) : m_ring(opts.entries), m_token(m_stop_source.get_token())
{
    m_spawned.prev = m_spawned.next = &m_spawned;
    m_wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_wake_fd < 0)
    {
        throw std::system_error(errno, std::system_category(), "eventfd");
    }
    m_wake_request.loop = this;
    m_wake_request.complete = [](detail::io_request& self, const io_uring_cqe&) noexcept
    {
        event_loop* loop = static_cast<wake_request&>(self).loop;
        loop->note_completed();
        loop->m_wake_fired = true;
    };
    m_unhandled = [](std::exception_ptr error)
    {
        try
        {
            std::rethrow_exception(error);
        }
        catch (const std::exception& e)
        {
            std::fprintf(stderr, "weft: exception escaped a spawned task: %s\n", e.what());
        }
        catch (...)
        {
            std::fprintf(stderr, "weft: unknown exception escaped a spawned task\n");
        }
    };
    arm_wakeup();
    m_on_stop.emplace(m_token, stop_forwarder{this});
}

event_loop::~event_loop()
{
    {
        // Under the lock: post() and request_cancel() read it from other threads.
        std::lock_guard lock(m_remote_mutex);
        m_closing = true;
    }
    m_stop_source.request_stop();
    {
        std::lock_guard lock(m_remote_mutex);
        m_posted.clear();
        m_remote_cancels.clear();
    }
    m_timers.clear();
    // The kernel may still write into buffers of pending operations, which live in the frames
    // destroyed below: cancel everything and wait until every CQE has come back first.
    if (m_in_flight > 0)
    {
        io_uring_sqe* sqe = m_ring.get_sqe();
        io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
        io_uring_sqe_set_data64(sqe, 0);
        while (m_in_flight > 0)
        {
            try
            {
                m_ring.submit_and_wait(std::chrono::milliseconds(100));
            }
            catch (const std::system_error&)
            {
                break;
            }
            m_ring.drain(
                [](const io_uring_cqe& cqe)
                {
                    if (cqe.user_data != 0)
                    {
                        auto* request = reinterpret_cast<detail::io_request*>(cqe.user_data);
                        request->complete(*request, cqe);
                    }
                });
        }
    }
    m_ready.clear();
    while (m_spawned.next != &m_spawned)
    {
        using promise_type = detail::task_promise<void>;
        auto& promise = static_cast<promise_type&>(*m_spawned.next);
        std::coroutine_handle<promise_type>::from_promise(promise).destroy(); // unlinks it
    }
    ::close(m_wake_fd);
}

void event_loop::throw_no_current(const char* what)
{
    throw invalid_state_error(std::string("weft: ") + what +
                              " must be awaited inside a task running on an event_loop");
}

task<void> event_loop::root(task<void> t, std::exception_ptr& error)
{
    try
    {
        co_await std::move(t);
    }
    catch (...)
    {
        error = std::current_exception();
    }
}

task<void> event_loop::bridged(task<void> t)
{
    co_await std::move(t); // the task awaiter bridges t's token with the loop's
}

void event_loop::spawn(task<void> t)
{
    if (stopped())
    {
        throw invalid_state_error("weft: spawn on a stopped event_loop");
    }
    if (!t.valid())
    {
        throw invalid_state_error("weft: spawn of an empty or moved-from task");
    }
    // A task with a token of its own must also stop with the loop: the task awaiter's bridge
    // does that, so such a task (rare) runs inside a wrapper that awaits it. Every other task
    // runs as it is, one frame, under the loop's token.
    if (t.get_stop_token().stop_possible() && t.get_stop_token() != m_token)
    {
        t = bridged(std::move(t));
    }
    const auto handle = t.release();
    auto& promise = handle.promise();
    promise.set_stop_token(m_token);
    promise.link_before(m_spawned);
    try
    {
        m_ready.push_back(handle);
    }
    catch (...)
    {
        handle.destroy(); // unlinks it
        throw;
    }
}

void event_loop::run_root(task<void>& root_task)
{
    if (m_running)
    {
        throw invalid_state_error("weft: event_loop::run called while the loop is running");
    }
    if (stopped())
    {
        throw invalid_state_error("weft: run on a stopped event_loop");
    }
    m_running = true;
    current_loop_scope scope(this);
    root_task.set_stop_token(m_stop_source.get_token()); // the wrapper's; the user's task inherits
    auto handle = root_task.release();
    task<void> owner(handle); // destroys the frame however we leave
    m_ready.push_back(handle);
    try
    {
        const std::function<bool()> done = [handle] { return handle.done(); };
        while (!handle.done())
        {
            run_once(done);
        }
    }
    catch (...)
    {
        m_running = false;
        throw;
    }
    m_running = false;
}

void event_loop::run_until(const std::function<bool()>& done)
{
    if (detail::current_loop != this)
    {
        throw invalid_state_error("weft: event_loop::run_until called off the loop's thread");
    }
    while (!done())
    {
        run_once(done);
    }
}

void event_loop::run_once(const std::function<bool()>& done)
{
    // Resume only what was ready when this turn began, so that a task that keeps yielding
    // cannot starve I/O completions and timers.
    for (std::size_t n = m_ready.size(); n > 0 && !m_ready.empty(); --n)
    {
        const std::coroutine_handle<> h = m_ready.front();
        m_ready.pop_front();
        h.resume();
    }
    if (done())
    {
        return;
    }

    if (!m_ready.empty())
    {
        // Work is still ready, so do not wait. Enter the kernel only to submit, or every few
        // busy turns to collect completions (COOP_TASKRUN runs their task work on entry): a
        // task yielding alone would otherwise pay a system call per yield.
        constexpr unsigned turns_between_polls = 32;
        if (io_uring_sq_ready(m_ring.native()) > 0 || ++m_busy_turns >= turns_between_polls)
        {
            m_busy_turns = 0;
            io_uring_submit_and_get_events(m_ring.native());
        }
    }
    else if (m_timers.empty())
    {
        m_busy_turns = 0;
        m_ring.submit_and_wait(std::nullopt);
    }
    else
    {
        m_ring.submit_and_wait(m_timers.top().deadline - std::chrono::steady_clock::now());
    }

    m_ring.drain(
        [](const io_uring_cqe& cqe)
        {
            if (cqe.user_data != 0)
            {
                auto* request = reinterpret_cast<detail::io_request*>(cqe.user_data);
                request->complete(*request, cqe);
            }
        });

    if (m_wake_fired)
    {
        on_wakeup();
    }
    fire_timers();
}

void event_loop::fire_timers()
{
    if (m_timers.empty())
    {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    while (!m_timers.empty() && m_timers.top().deadline <= now)
    {
        detail::timer_node& node = m_timers.pop();
        node.expire(node, false);
    }
}

void event_loop::on_stop() noexcept
{
    if (detail::current_loop == this)
    {
        observe_stop();
        return;
    }
    {
        std::lock_guard lock(m_remote_mutex);
        if (m_closing)
        {
            return;
        }
        m_stop_pending = true;
    }
    wake();
}

void event_loop::observe_stop() noexcept
{
    if (!std::exchange(m_stop_observed, true))
    {
        cancel_timers_on_stop();
    }
}

void event_loop::cancel_timers_on_stop() noexcept
{
    // Awaits that observe the loop's own token registered no stop callback (stop_with_loop):
    // cancel them here. Collected first: expire() may add or remove timers.
    std::vector<detail::timer_node*> stopped;
    try
    {
        m_timers.for_each(
            [&stopped](detail::timer_node& node)
            {
                if (node.stop_with_loop)
                {
                    stopped.push_back(&node);
                }
            });
    }
    catch (const std::bad_alloc&)
    {
        std::fputs("weft: out of memory while stopping an event_loop\n", stderr);
        std::abort();
    }
    for (detail::timer_node* node : stopped)
    {
        if (node->queued())
        {
            m_timers.erase(*node);
            node->expire(*node, true);
        }
    }
}

void event_loop::arm_wakeup()
{
    io_uring_sqe* sqe = m_ring.get_sqe();
    io_uring_prep_read(sqe, m_wake_fd, &m_wake_buffer, sizeof m_wake_buffer, 0);
    io_uring_sqe_set_data(sqe, static_cast<detail::io_request*>(&m_wake_request));
    note_submitted();
}

void event_loop::wake() noexcept
{
    if (!m_notified.exchange(true))
    {
        const std::uint64_t one = 1;
        // A failed write can only mean the counter is saturated, which already wakes the loop.
        [[maybe_unused]] const ssize_t written = ::write(m_wake_fd, &one, sizeof one);
    }
}

void event_loop::on_wakeup()
{
    m_wake_fired = false;
    m_notified.store(false);
    if (!m_closing)
    {
        arm_wakeup();
    }
    std::vector<detail::cancellable*> cancels;
    bool stop_pending = false;
    {
        std::lock_guard lock(m_remote_mutex);
        stop_pending = std::exchange(m_stop_pending, false);
        cancels.swap(m_remote_cancels);
        for (detail::cancellable* c : cancels)
        {
            c->m_remote_queued.store(false, std::memory_order_release);
        }
    }
    if (stop_pending)
    {
        observe_stop();
    }
    for (detail::cancellable* c : cancels)
    {
        c->cancel();
    }
    run_posted();
}

void event_loop::run_posted()
{
    std::vector<std::function<void()>> posted;
    {
        std::lock_guard lock(m_remote_mutex);
        posted.swap(m_posted);
    }
    for (auto& fn : posted)
    {
        fn();
    }
}

bool event_loop::post(std::function<void()> fn)
{
    {
        std::lock_guard lock(m_remote_mutex);
        if (m_closing || m_stop_source.stop_requested())
        {
            return false;
        }
        m_posted.push_back(std::move(fn));
    }
    wake();
    return true;
}

void event_loop::stop() noexcept
{
    m_stop_source.request_stop();
}

void event_loop::request_cancel(detail::cancellable& target) noexcept
{
    if (detail::current_loop == this)
    {
        target.cancel();
        return;
    }
    {
        std::lock_guard lock(m_remote_mutex);
        if (m_closing)
        {
            return;
        }
        if (!target.m_remote_queued.exchange(true, std::memory_order_acq_rel))
        {
            m_remote_cancels.push_back(&target);
        }
    }
    wake();
}

void event_loop::drop_remote_cancel(detail::cancellable& target) noexcept
{
    std::lock_guard lock(m_remote_mutex);
    if (target.m_remote_queued.exchange(false, std::memory_order_acq_rel))
    {
        std::erase(m_remote_cancels, &target);
    }
}

void event_loop::set_unhandled_exception_handler(std::function<void(std::exception_ptr)> handler)
{
    m_unhandled = std::move(handler);
}

void event_loop::report_unhandled(std::exception_ptr error) noexcept
{
    if (m_unhandled)
    {
        try
        {
            m_unhandled(std::move(error));
        }
        catch (...)
        {
            std::fprintf(stderr, "weft: the unhandled-exception handler threw\n");
        }
    }
}

} // namespace weft
