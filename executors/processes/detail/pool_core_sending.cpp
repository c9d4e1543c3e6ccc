// Handing queued calls to workers: which worker takes the next call (as many ahead into a
// worker's ring as task_timings says), and writing them there (their shared memory descriptors
// first).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <signal.h>
#include <string>
#include <unistd.h>
#include <utility>

#include <sys/syscall.h>
#include <sys/wait.h>

#include "executors/processes/detail/pool_core.hpp"
#include "executors/processes/detail/shm_channel.hpp"

namespace weft::detail
{
void pool_core::dispatch()
{
    if (m_broken)
    {
        return;
    }
    bool any = assign_pending();
    if (m_pending.empty() && take_back_for_idle_workers())
    {
        any = assign_pending() || any;
    }
    if (any)
    {
        for (auto& w : m_workers)
        {
            pump(*w);
        }
    }
}

bool pool_core::assign_pending()
{
    bool any = false;
    while (!m_pending.empty())
    {
        const pool_call_base& next = *m_pending.front();
        const std::size_t ahead = m_timings.ahead(next.timing_key, next.calls);
        worker_slot* best = nullptr;
        for (auto& w : m_workers)
        {
            // A task not known to be short goes only to an idle worker, so it is the front
            // one; nothing is written behind it to wait for it.
            if (w->stop_sent || w->held == announce_outcome::worker_gone ||
                w->assigned.size() >= ahead ||
                (!w->assigned.empty() && m_timings.ahead(w->assigned.front()->timing_key,
                                                         w->assigned.front()->calls) == 1) ||
                (m_max_tasks != 0 && w->sent >= m_max_tasks))
            {
                continue;
            }
            if (best == nullptr || w->assigned.size() < best->assigned.size())
            {
                best = w.get();
            }
        }
        if (best == nullptr)
        {
            break;
        }
        std::shared_ptr<pool_call_base> call = std::move(m_pending.front());
        m_pending.pop_front();
        if (!call->running)
        {
            if (!call->start())
            {
                continue; // cancelled while it waited
            }
            call->running = true;
        }
        best->assigned.push_back(std::move(call));
        ++best->sent;
        any = true;
    }
    return any;
}

bool pool_core::pump(worker_slot& w)
{
    bool moved = false;
    shm_channel_header& header = w.channel.header();
    while (w.written < w.assigned.size() && !w.stop_sent && w.held != announce_outcome::worker_gone)
    {
        if (!w.announced)
        {
            // Before the first byte: the worker decodes the message only once it is whole.
            const announce_outcome sent = announce(w);
            if (sent == announce_outcome::full || sent == announce_outcome::not_idle)
            {
                // The call and those behind it wait; the next pump tries again. The ring is
                // not what blocks them (every earlier message is whole in it): a flag left up
                // would keep a waiter in result() spinning on room it does not need.
                header.tasks_blocked.store(0, std::memory_order_relaxed);
                break;
            }
            if (sent == announce_outcome::worker_gone)
            {
                break; // its death sends the unwritten calls to other workers
            }
            if (sent == announce_outcome::failed)
            {
                continue; // that call left `assigned`, failed
            }
            if (sent == announce_outcome::failed_part_sent)
            {
                break; // that call left `assigned`, failed, and the worker retires
            }
            w.announced = true;
        }
        pool_call_base& call = *w.assigned[w.written];
        const message_bytes& message = call.message;
        if (w.partial == 0)
        {
            call.ring_at = header.tasks.head.load(std::memory_order_relaxed);
        }
        const std::size_t put =
            w.channel.write_some(header.tasks, w.channel.task_bytes(), message.data() + w.partial,
                                 message.size() - w.partial);
        moved = moved || put > 0;
        w.partial += put;
        if (w.partial < message.size())
        {
            // The ring is full: the worker announces the room it makes (notify_room) once it
            // sees the flag; room made before that is found by checking again.
            header.tasks_blocked.store(1, std::memory_order_seq_cst);
            if (w.channel.writable(header.tasks) == 0)
            {
                break;
            }
            continue;
        }
        ++w.written;
        w.partial = 0;
        w.announced = false;
    }
    if (w.written == w.assigned.size())
    {
        header.tasks_blocked.store(0, std::memory_order_relaxed);
    }
    if (moved)
    {
        wake_worker(header);
    }
    return moved;
}

// A call whose descriptors cannot be sent is taken out unwritten and failed (by whoever next
// takes m_refused, outside the lock) with the cause; the worker never sees it, and drops at its
// next receive any datagram of it that did go (another message's id). A worker that is gone
// cannot take them: its death re-sends the call.
//
// A send that would wait leaves the call where it is (the calls behind it wait too: a worker's
// datagrams go in the order of its messages). The pump that follows the worker's progress tries
// again: the collector's, woken by the socket's room (full: sleep() polls for it) or by the
// results that make the worker idle (not_idle).
announce_outcome pool_core::announce(worker_slot& w)
{
    const auto at = w.assigned.begin() + static_cast<std::ptrdiff_t>(w.written);
    std::exception_ptr error;
    const announce_outcome sent = announce_attachments(w.socket.get(), w.child.pid, (*at)->id,
                                                       (*at)->attached, w.written == 0, error);
    if (sent == announce_outcome::full || sent == announce_outcome::not_idle)
    {
        if (sent == announce_outcome::full && w.held != sent)
        {
            ring_pool_bell(); // a collector asleep does not poll this socket yet
        }
        w.held = sent;
        return sent;
    }
    // A worker gone stays gone: nothing more is sent or assigned to it, and the collector
    // sleeps on its pidfd instead of taking its unwritten calls for work it can do (it spun,
    // never burying the worker, when a call of shared memory was assigned after the death).
    if (sent == announce_outcome::worker_gone && w.held != sent)
    {
        // Its end of the socket is closed, but the process may live on: a task that closed the
        // worker's descriptors (a daemon's close-everything loop) leaves it running, unable to
        // take descriptors. It is killed once it has returned the calls written to it, so that
        // its death hands the others to a replacement; otherwise they, and a shutdown, would
        // wait for a death that never comes. (One that exited already is only buried.)
        siginfo_t info{};
        w.deaf = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(w.child.pidfd.get()),
                          &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                 info.si_pid == 0;
        kill_if_deaf_and_idle(w);
    }
    w.held = sent == announce_outcome::worker_gone ? sent : announce_outcome::sent;
    if (sent == announce_outcome::sent && !(*at)->attached.empty())
    {
        message_bytes& message = (*at)->message;
        std::uint64_t id = 0;
        std::memcpy(&id, message.data() + 4, sizeof id);
        id |= carries_descriptors;
        std::memcpy(message.data() + 4, &id, sizeof id);
    }
    if (sent == announce_outcome::failed_part_sent)
    {
        // The datagrams that went would fill the socket of a worker that reads nothing until a
        // message comes: it retires instead (a planned exit; the calls behind this one go back
        // to the queue, and a fresh worker with an empty socket takes its place).
        send_stop(w);
    }
    if (sent == announce_outcome::failed || sent == announce_outcome::failed_part_sent)
    {
        m_refused.push_back(pool_completion{std::move(*at), outcome_kind::value, {}, error});
        w.assigned.erase(at);
        --w.sent; // max_tasks_per_child counts what reaches the worker
        ring_pool_bell();
    }
    return sent;
}

void pool_core::kill_if_deaf_and_idle(worker_slot& w) noexcept
{
    if (w.deaf && w.written == 0)
    {
        (void)::syscall(SYS_pidfd_send_signal, w.child.pidfd.get(), SIGKILL, nullptr, 0);
        w.deaf = false;
    }
}

bool pool_core::take_refused(std::vector<pool_completion>& done)
{
    if (m_refused.empty())
    {
        return false;
    }
    for (pool_completion& c : m_refused)
    {
        done.push_back(std::move(c));
    }
    m_refused.clear();
    return true;
}

void pool_core::send_stop(worker_slot& w)
{
    char stop[12] = {};
    const std::uint32_t length = 8;
    std::memcpy(stop, &length, sizeof length);
    // Every call came back (or, retiring after a failed send, none was written), so the worker
    // has read everything: the ring is empty.
    if (w.channel.writable(w.channel.header().tasks) >= sizeof stop)
    {
        (void)w.channel.write_some(w.channel.header().tasks, w.channel.task_bytes(), stop,
                                   sizeof stop);
        w.stop_sent = true;
        wake_worker(w.channel.header());
    }
}

} // namespace weft::detail
