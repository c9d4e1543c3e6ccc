// The pool's workers coming and going: starting one (under the pool's start method), burying
// one that exited (its finished, held and queued calls), and breaking the pool when workers
// keep dying.
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <signal.h>
#include <string>
#include <tuple>
#include <utility>

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <system_error>

#include "executors/detail/futex.hpp"
#include "executors/errors.hpp"
#include "executors/processes/detail/launch.hpp"
#include "executors/processes/detail/payload.hpp"
#include "executors/processes/detail/pool_core.hpp"
#include "executors/processes/detail/shm_channel.hpp"

namespace weft::detail
{
namespace
{

// A worker that dies this many times in a row before running anything breaks the pool.
constexpr int g_crash_loop_limit = 3;

std::string signal_name(int signal)
{
    const char* abbrev = ::sigabbrev_np(signal);
    return abbrev != nullptr ? std::string("SIG") + abbrev : std::to_string(signal);
}

// " (items 40 to 49 of its map)" for a map's chunk (counted from 0 in the map's input), so that
// the caller knows which inputs were lost; nothing for a submitted call.
std::string describe_items(const pool_call_base& call)
{
    if (call.first_item == pool_call_base::not_a_chunk)
    {
        return "";
    }
    if (call.calls == 1)
    {
        return " (item " + std::to_string(call.first_item) + " of its map)";
    }
    return " (items " + std::to_string(call.first_item) + " to " +
           std::to_string(call.first_item + call.calls - 1) + " of its map)";
}

std::string describe_exit(int exitcode)
{
    return exitcode < 0 ? "signal " + signal_name(-exitcode)
                        : "exit code " + std::to_string(exitcode);
}

} // namespace

std::unique_ptr<worker_slot> pool_core::start_worker()
{
    auto slot = std::make_unique<worker_slot>();
    slot->memfd = uring::owned_fd(::memfd_create("weft-pool-channel", MFD_CLOEXEC));
    if (!slot->memfd.valid())
    {
        throw std::system_error(errno, std::system_category(), "weft: memfd_create");
    }
    slot->channel = shm_channel(slot->memfd.get(), true);
    int pair[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    {
        throw std::system_error(errno, std::system_category(), "weft: socketpair");
    }
    slot->socket = uring::owned_fd(pair[0]);
    const uring::owned_fd worker_end(pair[1]); // the worker's copy is all it needs
    const std::string name = "ProcessPoolWorker-" + std::to_string(++m_started_workers);
    const int fds[3] = {slot->memfd.get(), m_bell.get(), worker_end.get()};
    // Queued before the worker exists: it runs the initializer first thing.
    std::exception_ptr unsent;
    if (announce_attachments(slot->socket.get(), 0, initializer_task_id, m_initializer_attached,
                             true, unsent) != announce_outcome::sent)
    {
        std::rethrow_exception(unsent);
    }
    switch (m_method)
    {
    case start_method::fork:
    {
        const int channel_fd = fds[0];
        const int bell_fd = fds[1];
        const int socket_fd = fds[2];
        slot->child = fork_and_run([channel_fd, bell_fd, socket_fd, config = m_config]
                                   { run_pool_worker(channel_fd, bell_fd, socket_fd, config); },
                                   name, true);
        break;
    }
    case start_method::spawn:
    case start_method::forkserver:
    {
        const std::tuple<pool_worker_config> args{m_config};
        const std::string payload = encode_call(&pool_worker_main, args, name, true, nullptr, true);
        slot->child = m_method == start_method::spawn ? spawn_payload(payload, fds, true)
                                                      : forkserver_payload(payload, fds);
        break;
    }
    }
    return slot;
}

// Reaps the worker, delivers what it finished, fails the call it held, sends the calls queued
// behind that one to other workers.
bool pool_core::bury(std::size_t index, std::vector<pool_completion>& done)
{
    worker_slot& w = *m_workers[index];
    siginfo_t info{};
    while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(w.child.pidfd.get()), &info,
                    WEXITED) != 0 &&
           errno == EINTR)
    {
    }
    const int exitcode = (info.si_code == CLD_EXITED) ? info.si_status : -info.si_status;
    (void)receive(w, done);
    const std::uint64_t started = w.channel.header().started.load(std::memory_order_seq_cst);
    // A stop goes to a worker holding no call, or to one whose socket a failed send of several
    // datagrams left full (announce(): the calls assigned behind it were never written).
    bool planned = w.stop_sent && w.written == 0;
    // Retiring (stop, max_tasks_per_child, max_memory_per_child) exits 0 between tasks.
    const bool held_a_call =
        !w.assigned.empty() && w.written > 0 && w.assigned.front()->id == started;
    const bool unplanned = !w.killed && (exitcode != 0 || held_a_call);
    if (unplanned)
    {
        count_death(exitcode, info.si_pid);
    }
    if (held_a_call && w.assigned.front()->retries < m_max_retries && !m_broken)
    {
        // Opt-in: the call goes back to the queue, ahead of the rest.
        ++w.assigned.front()->retries;
        m_deaths_in_a_row = 0;
    }
    else if (held_a_call)
    {
        const std::uint64_t task = started;
        const pool_call_base& call = *w.assigned.front();
        const auto* code = reinterpret_cast<const pool_code*>(call.timing_key);
        pool_completion c;
        c.death =
            worker_death{.what = "weft: process pool worker " + std::to_string(w.child.pid) +
                                 (exitcode < 0 ? " was killed by signal " + signal_name(-exitcode)
                                               : " exited with code " + std::to_string(exitcode)) +
                                 " while running task " + std::to_string(task),
                         .function = code != nullptr ? code->target : 0,
                         .items = describe_items(call),
                         .pid = w.child.pid,
                         .exitcode = exitcode,
                         .task = task};
        c.call = std::move(w.assigned.front());
        w.assigned.pop_front();
        done.push_back(std::move(c));
        m_deaths_in_a_row = 0;
    }
    else if (exitcode == 0 && m_max_tasks != 0 && w.sent >= m_max_tasks && w.assigned.empty())
    {
        planned = true; // retired after max_tasks_per_child
    }
    else if (!planned && !w.ran_something)
    {
        ++m_deaths_in_a_row;
    }
    // The rest never started: back to the front of the queue, in order.
    for (auto it = w.assigned.rbegin(); it != w.assigned.rend(); ++it)
    {
        m_pending.push_front(std::move(*it));
    }
    w.assigned.clear();
    (void)planned;
    // Waiters registered here sleep on this channel: they look again and find their call
    // failed, or back in the queue (they then block on the future).
    shm_channel_header& header = w.channel.header();
    header.waiter_bell.fetch_add(1, std::memory_order_seq_cst);
    shared_futex_wake(header.waiter_bell);
    if (w.pins > 0)
    {
        w.retired = true;
        m_retired.push_back(std::move(m_workers[index]));
    }
    m_workers.erase(m_workers.begin() + static_cast<std::ptrdiff_t>(index));
    if (m_deaths_in_a_row >= g_crash_loop_limit && !m_broken)
    {
        break_pool("worker processes keep dying before running anything (last: pid " +
                   std::to_string(info.si_pid) + ", " + describe_exit(exitcode) + ")");
    }
    if (m_broken)
    {
        fail_everything(done);
        return false;
    }
    return !m_shutdown || !m_pending.empty() || any_assigned();
}

void pool_core::break_pool(std::string reason)
{
    if (!m_broken)
    {
        m_broken = true;
        m_broken_reason = std::move(reason);
    }
}

void pool_core::count_death(int exitcode, pid_t pid)
{
    if (m_restart_limit.deaths <= 0)
    {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    m_deaths.push_back(now);
    while (!m_deaths.empty() && now - m_deaths.front() > m_restart_limit.within)
    {
        m_deaths.pop_front();
    }
    if (m_deaths.size() > static_cast<std::size_t>(m_restart_limit.deaths))
    {
        break_pool("workers died " + std::to_string(m_deaths.size()) + " times within " +
                   std::to_string(m_restart_limit.within.count()) +
                   " ms, over the restart limit (last: pid " + std::to_string(pid) + ", " +
                   describe_exit(exitcode) + ")");
    }
}

void pool_core::fail_everything(std::vector<pool_completion>& done)
{
    auto error = std::make_exception_ptr(
        broken_executor_error("weft: the process pool is broken: " + m_broken_reason));
    for (auto& call : m_pending)
    {
        done.push_back(pool_completion{std::move(call), outcome_kind::value, {}, error});
    }
    m_pending.clear();
}

} // namespace weft::detail
