#include "executors/processes/process_pool_executor.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <new>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <utility>
#include <vector>

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <system_error>

#include "executors/detail/futex.hpp"
#include "executors/errors.hpp"
#include "executors/processes/detail/announce.hpp"
#include "executors/processes/detail/launch.hpp"
#include "executors/processes/detail/payload.hpp"
#include "executors/processes/detail/pool_worker.hpp"
#include "executors/processes/detail/shm_channel.hpp"
#include "executors/processes/detail/task_timings.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft
{
namespace detail
{

const std::string& pool_code_bytes(std::uintptr_t entry, std::uintptr_t target)
{
    static std::mutex mutex;
    static std::map<std::pair<std::uintptr_t, std::uintptr_t>, std::string> cache;
    std::lock_guard lock(mutex);
    auto found = cache.find({entry, target});
    if (found != cache.end())
    {
        return found->second;
    }
    std::string bytes;
    {
        wire_writer writer(bytes);
        const code_address where = locate_code(entry);
        const code_address what = target != 0 ? locate_code(target) : code_address{};
        writer.archive()(where, what, target != 0);
    }
    // std::map never moves its nodes: the reference stays valid.
    return cache.emplace(std::make_pair(entry, target), std::move(bytes)).first->second;
}

std::exception_ptr decode_remote_exception(std::string_view body) noexcept
{
    try
    {
        std::string name;
        std::string what;
        {
            wire_reader reader(body);
            reader.archive()(name, what);
        }
        // Exactly these types (not their subclasses, whose type the name still tells) come
        // back as themselves: each has a constructor taking the message.
        if (name == "std::runtime_error")
            return std::make_exception_ptr(std::runtime_error(what));
        if (name == "std::logic_error")
            return std::make_exception_ptr(std::logic_error(what));
        if (name == "std::invalid_argument")
            return std::make_exception_ptr(std::invalid_argument(what));
        if (name == "std::out_of_range")
            return std::make_exception_ptr(std::out_of_range(what));
        if (name == "std::domain_error")
            return std::make_exception_ptr(std::domain_error(what));
        if (name == "std::length_error")
            return std::make_exception_ptr(std::length_error(what));
        if (name == "std::range_error")
            return std::make_exception_ptr(std::range_error(what));
        if (name == "std::overflow_error")
            return std::make_exception_ptr(std::overflow_error(what));
        if (name == "std::underflow_error")
            return std::make_exception_ptr(std::underflow_error(what));
        if (name == "std::bad_alloc")
            return std::make_exception_ptr(std::bad_alloc());
        return std::make_exception_ptr(remote_error(std::move(name), what));
    }
    catch (...)
    {
        return std::current_exception();
    }
}

namespace
{

// The collector spins this long after the last result before it sleeps in poll(): a result
// that follows within it costs no wake-up (FLOORS.md: ~50 µs each here). Never on one CPU.
const std::chrono::nanoseconds g_collector_spin = std::thread::hardware_concurrency() > 1
                                                      ? std::chrono::microseconds(50)
                                                      : std::chrono::nanoseconds(0);

// A thread waiting in result() spins this long on its call's channel before it sleeps (the
// price of one cross-CPU wake-up). Never on one CPU.
const std::chrono::nanoseconds g_waiter_spin = std::thread::hardware_concurrency() > 1
                                                   ? std::chrono::microseconds(50)
                                                   : std::chrono::nanoseconds(0);

// Outcomes up to this size are copied out of a worker's inbox; a larger one that ends the
// inbox takes the inbox with it instead (receive).
constexpr std::size_t g_copied_outcome = 256;

// A worker that dies this many times in a row before running anything breaks the pool.
constexpr int g_crash_loop_limit = 3;

std::string signal_name(int signal)
{
    const char* abbrev = ::sigabbrev_np(signal);
    return abbrev != nullptr ? std::string("SIG") + abbrev : std::to_string(signal);
}

// "type: what" of an exception a worker sent.
std::string describe_remote_exception(std::string_view body)
{
    try
    {
        std::string name;
        std::string what;
        wire_reader reader(body);
        reader.archive()(name, what);
        return name + ": " + what;
    }
    catch (...)
    {
        return "an exception that could not be decoded";
    }
}

} // namespace

/// One worker process and the pool's side of its channel.
struct worker_slot
{
    child_handle child;
    uring::owned_fd memfd;
    uring::owned_fd socket; // carries the shared memory descriptors of tasks (attachments.hpp)
    shm_channel channel;
    std::deque<std::shared_ptr<pool_call_base>> assigned; // sent or being sent, in order
    std::size_t written = 0;    // calls at the front of `assigned` wholly in the ring
    std::size_t partial = 0;    // bytes of assigned[written] already in the ring
    bool announced = false;     // assigned[written]'s descriptors went over `socket`
    std::string inbox;          // result bytes not yet a whole message
    std::size_t inbox_at = 0;   // where the unparsed part of `inbox` begins
    std::uint32_t sent = 0;     // calls ever assigned (max_tasks_per_child)
    bool stop_sent = false;     // the stop message is in the ring
    bool killed = false;        // terminate() killed it: what it still sends is dropped
    bool ran_something = false; // at least one outcome came back

    // Waiters registered on this channel, and drainers about to ring it: while any, the slot
    // (and so the mapping they read without the lock) outlives its worker in m_retired.
    int pins = 0;
    bool retired = false;
};

struct completion
{
    std::shared_ptr<pool_call_base> call;
    outcome_kind kind = outcome_kind::value;
    std::string body;         // holds the outcome's bytes from body_at on
    std::exception_ptr error; // set: fail with this instead
    std::size_t body_at = 0;  // (a large outcome keeps the worker's whole inbox: no copy)

    [[nodiscard]] std::string_view outcome() const noexcept
    {
        return std::string_view(body).substr(body_at);
    }
};

class pool_core
{
  public:
    explicit pool_core(const process_pool_executor::options& opts)
        : m_max_workers(opts.max_workers > 0
                            ? opts.max_workers
                            : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()))),
          m_method(opts.start_method.value_or(get_start_method())),
          m_max_tasks(static_cast<std::uint32_t>(opts.max_tasks_per_child)),
          m_max_retries(opts.max_retries), m_restart_limit(opts.restart_limit),
          m_bell(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
    {
        m_config.max_tasks = m_max_tasks;
        m_config.max_memory = opts.max_memory_per_child;
        m_config.initializer = opts.initializer.message();
        m_initializer_attached = opts.initializer.attached();
        if (!m_bell.valid())
        {
            throw std::system_error(errno, std::system_category(), "weft: eventfd");
        }
        check_can_start(m_method != start_method::fork);
        // Started before the collector thread exists: a forked worker then copies a process
        // with no pool thread in it.
        for (int i = 0; i < m_max_workers; ++i)
        {
            m_workers.push_back(start_worker());
        }
        m_collector = std::thread([this] { collect(); });
    }

    ~pool_core() { shutdown(true, false); }

    int max_workers() const noexcept { return m_max_workers; }

    std::vector<pid_t> worker_pids() const
    {
        std::lock_guard lock(m_mutex);
        std::vector<pid_t> pids;
        for (const auto& w : m_workers)
        {
            pids.push_back(w->child.pid);
        }
        return pids;
    }

    void enqueue(std::shared_ptr<pool_call_base> call)
    {
        call->timing_key = timing_key_of(call->message);
        std::lock_guard lock(m_mutex);
        require_accepting();
        m_pending.push_back(std::move(call));
        dispatch();
    }

    // A batch (a chunked map's refill): one lock and one dispatch, so that each idle worker is
    // woken once for all of it. All or nothing.
    void enqueue(std::vector<std::shared_ptr<pool_call_base>>& calls)
    {
        for (auto& call : calls)
        {
            call->timing_key = timing_key_of(call->message);
        }
        std::lock_guard lock(m_mutex);
        require_accepting();
        for (auto& call : calls)
        {
            m_pending.push_back(std::move(call));
        }
        calls.clear();
        dispatch();
    }

    void shutdown(bool wait, bool cancel_futures)
    {
        std::deque<std::shared_ptr<pool_call_base>> cancelled;
        {
            std::lock_guard lock(m_mutex);
            m_shutdown = true;
            if (cancel_futures)
            {
                // Calls handed back by a dead worker are running already: they stay.
                for (auto it = m_pending.begin(); it != m_pending.end();)
                {
                    if (!(*it)->running)
                    {
                        cancelled.push_back(std::move(*it));
                        it = m_pending.erase(it);
                    }
                    else
                    {
                        ++it;
                    }
                }
            }
        }
        for (auto& call : cancelled)
        {
            call->cancel(); // outside the lock: cancelling runs the future's callbacks
        }
        ring_pool_bell();
        if (wait)
        {
            if (std::this_thread::get_id() == m_collector.get_id())
            {
                throw invalid_state_error(
                    "weft: shutdown(wait=true) from a callback on the pool's own thread");
            }
            std::lock_guard join_lock(m_join_mutex);
            if (m_collector.joinable())
            {
                m_collector.join();
            }
        }
    }

    // Kills every worker now and fails every call that has not finished with
    // pool_terminated_error; later submissions are refused.
    void terminate()
    {
        std::vector<std::shared_ptr<pool_call_base>> orphans;
        {
            std::lock_guard lock(m_mutex);
            m_shutdown = true;
            for (auto& call : m_pending)
            {
                orphans.push_back(std::move(call));
            }
            m_pending.clear();
            for (auto& w : m_workers)
            {
                for (auto& call : w->assigned)
                {
                    orphans.push_back(std::move(call));
                }
                w->assigned.clear();
                w->written = 0;
                w->partial = 0;
                w->announced = false;
                w->killed = true;
                w->stop_sent = true; // nothing more is sent to it
                ::syscall(SYS_pidfd_send_signal, w->child.pidfd.get(), SIGKILL, nullptr, 0);
            }
        }
        const auto error = std::make_exception_ptr(
            pool_terminated_error("weft: the process pool was terminated before this task ran"));
        for (auto& call : orphans)
        {
            call->fail(error); // outside the lock: failing runs the future's callbacks
        }
        ring_pool_bell();
    }

    // --- Waiters -----------------------------------------------------------------------------
    //
    // A thread blocked in result() on a call that a worker holds collects the pool's results
    // itself instead of waiting for the collector thread to do it and wake it: otherwise a
    // round trip crosses three threads on two CPUs and pays a third wake-up (FLOORS.md: ~50 µs
    // each on the 2-core VM) even back to back. It drains every channel under m_mutex and
    // completes what it finds (callbacks included) with no registration held, then registers
    // on its call's channel (waiters, pins), spins, and sleeps on waiter_bell, which the worker
    // rings directly (pool_worker.cpp, notify_results). Invariants, all under m_mutex:
    //   - a registered waiter drains every channel after it unregisters, so a result that the
    //     worker announced only to it is never left behind;
    //   - the collector leaves a channel with a registered waiter alone (no race for results,
    //     no third thread on the CPUs);
    //   - whoever takes results from a channel with a registered waiter, or buries its worker,
    //     rings waiter_bell afterwards; a waiter sleeps only if the bell still holds the value
    //     read when it registered.
    bool help(const pool_call_base& call, const future_state_base& state,
              future_state_base::deadline until) noexcept
    {
        m_helpers.fetch_add(1, std::memory_order_relaxed);
        struct leave
        {
            std::atomic<int>& helpers;
            ~leave() { helpers.fetch_sub(1, std::memory_order_relaxed); }
        } guard{m_helpers};
        std::vector<completion> done;
        std::vector<worker_slot*> pinned;
        worker_slot* slot = nullptr;
        for (;;)
        {
            {
                std::lock_guard lock(m_mutex);
                if (slot != nullptr)
                {
                    slot->channel.header().waiters.fetch_sub(1, std::memory_order_seq_cst);
                    unpin(*slot);
                    slot = nullptr;
                }
                if (m_starting > 0)
                {
                    // The collector is starting a replacement for a dead worker: until it is
                    // in, outcomes are the collector's to deliver, as they have always been
                    // (it drains every channel once it is back), so that the pool is at its
                    // size again when they arrive and the dead worker's calls wait for it.
                    return false;
                }
                drain(done, pinned);
            }
            finish(done);
            ring_pinned(pinned);
            if (state.done() || (until && std::chrono::steady_clock::now() >= *until))
            {
                return true;
            }
            std::uint32_t bell = 0;
            {
                std::lock_guard lock(m_mutex);
                slot = m_starting == 0 ? slot_of(call) : nullptr;
                if (slot == nullptr)
                {
                    return false; // not sent yet, or being completed by another thread
                }
                ++slot->pins;
                shm_channel_header& header = slot->channel.header();
                header.waiters.fetch_add(1, std::memory_order_seq_cst);
                bell = header.waiter_bell.load(std::memory_order_seq_cst);
            }
            wait_registered(*slot, state, bell, until);
        }
    }

  private:
    // With m_mutex held: throws unless new calls may be queued.
    void require_accepting() const
    {
        if (m_broken)
        {
            throw broken_executor_error("weft: the process pool is broken: " + m_broken_reason);
        }
        if (m_shutdown)
        {
            throw invalid_state_error("weft: cannot schedule new futures after shutdown");
        }
    }

    // With m_mutex held: what the collector's loop does, for every channel.
    void drain(std::vector<completion>& done, std::vector<worker_slot*>& pinned)
    {
        for (auto& w : m_workers)
        {
            const std::size_t before = done.size();
            (void)receive(*w, done);
            (void)pump(*w);
            if (done.size() != before &&
                w->channel.header().waiters.load(std::memory_order_relaxed) != 0)
            {
                ++w->pins;
                pinned.push_back(w.get());
            }
        }
        dispatch();
        (void)take_refused(done);
        if (m_shutdown && m_pending.empty() && !any_assigned())
        {
            ring_pool_bell(); // the collector sends the stop messages
        }
    }

    // After completing results taken from channels that other waiters are registered on.
    void ring_pinned(std::vector<worker_slot*>& pinned) noexcept
    {
        if (pinned.empty())
        {
            return;
        }
        std::lock_guard lock(m_mutex);
        for (worker_slot* w : pinned)
        {
            shm_channel_header& header = w->channel.header();
            header.waiter_bell.fetch_add(1, std::memory_order_seq_cst);
            if (header.waiter_sleepers.load(std::memory_order_seq_cst) != 0)
            {
                shared_futex_wake(header.waiter_bell);
            }
            unpin(*w);
        }
        pinned.clear();
    }

    // With m_mutex held.
    void unpin(worker_slot& w)
    {
        if (--w.pins == 0 && w.retired)
        {
            std::erase_if(m_retired, [&w](const auto& r) { return r.get() == &w; });
        }
    }

    // With m_mutex held: the live worker whose queue holds `call`.
    worker_slot* slot_of(const pool_call_base& call) const noexcept
    {
        for (const auto& w : m_workers)
        {
            for (const auto& a : w->assigned)
            {
                if (a.get() == &call)
                {
                    return w.get();
                }
            }
        }
        return nullptr;
    }

    // Registered on `w` (so its mapping stays): spins about the price of a wake-up, then sleeps
    // on the bell until there is something to collect or pump, or the bell moved.
    static void wait_registered(worker_slot& w, const future_state_base& state, std::uint32_t bell,
                                future_state_base::deadline until) noexcept
    {
        shm_channel_header& header = w.channel.header();
        auto ready = [&]
        {
            return state.done() || shm_channel::readable(header.results) > 0 ||
                   (header.tasks_blocked.load(std::memory_order_seq_cst) != 0 &&
                    w.channel.writable(header.tasks) > 0) ||
                   header.waiter_bell.load(std::memory_order_seq_cst) != bell;
        };
        const int cpu = ::sched_getcpu();
        header.waiter_cpu.store(cpu, std::memory_order_relaxed);
        auto spin = header.worker_cpu.load(std::memory_order_relaxed) == cpu
                        ? std::chrono::nanoseconds(0)
                        : g_waiter_spin;
        if (until)
        {
            spin = std::min(spin, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      *until - std::chrono::steady_clock::now()));
        }
        if (spin_for(ready, spin))
        {
            return;
        }
        // Counted before the last look, which the worker's publish-then-count mirrors.
        header.waiter_sleepers.fetch_add(1, std::memory_order_seq_cst);
        if (!ready())
        {
            (void)shared_futex_wait_until(header.waiter_bell, bell, until);
        }
        header.waiter_sleepers.fetch_sub(1, std::memory_order_seq_cst);
    }

    // --- Workers -----------------------------------------------------------------------------

    std::unique_ptr<worker_slot> start_worker()
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
                                 unsent) != announce_outcome::sent)
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
            const std::string payload = encode_call(&pool_worker_main, args, name, true);
            slot->child = m_method == start_method::spawn ? spawn_payload(payload, fds)
                                                          : forkserver_payload(payload, fds);
            break;
        }
        }
        return slot;
    }

    // --- Sending (m_mutex held) --------------------------------------------------------------

    // Hands pending calls to the least loaded workers that can take one.
    void dispatch()
    {
        if (m_broken)
        {
            return;
        }
        bool any = false;
        while (!m_pending.empty())
        {
            const std::size_t ahead = m_timings.ahead(m_pending.front()->timing_key);
            worker_slot* best = nullptr;
            for (auto& w : m_workers)
            {
                // A task not known to be short goes only to an idle worker, so it is the front
                // one; nothing is written behind it to wait for it.
                if (w->stop_sent || w->assigned.size() >= ahead ||
                    (!w->assigned.empty() &&
                     m_timings.ahead(w->assigned.front()->timing_key) == 1) ||
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
        if (any)
        {
            for (auto& w : m_workers)
            {
                pump(*w);
            }
        }
    }

    // Writes what fits of the assigned calls not yet in the ring; wakes the worker if it
    // sleeps. True when bytes moved.
    bool pump(worker_slot& w)
    {
        bool moved = false;
        shm_channel_header& header = w.channel.header();
        while (w.written < w.assigned.size())
        {
            if (!w.announced)
            {
                // Before the first byte: the worker decodes the message only once it is whole.
                const announce_outcome sent = announce(w);
                if (sent == announce_outcome::worker_gone)
                {
                    break; // its death sends the unwritten calls to other workers
                }
                if (sent == announce_outcome::failed)
                {
                    continue; // that call left `assigned`, failed
                }
                w.announced = true;
            }
            pool_call_base& call = *w.assigned[w.written];
            const std::string& message = call.message;
            const std::size_t put =
                w.channel.write_some(header.tasks, w.channel.task_bytes(),
                                     message.data() + w.partial, message.size() - w.partial);
            moved = moved || put > 0;
            w.partial += put;
            if (w.partial < message.size())
            {
                // The ring is full: the worker announces the room it makes (notify_room) once
                // it sees the flag; room made before that is found by checking again.
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

    // Sends the descriptors of assigned[written]'s shared memory to the worker ahead of its
    // bytes. A call whose descriptors cannot be sent is taken out unwritten and failed (by
    // whoever next takes m_refused, outside the lock) with the cause; the worker never sees
    // it, and drops at its next receive any datagram of it that did go (another message's
    // id). A worker that is gone cannot take them: its death re-sends the call.
    announce_outcome announce(worker_slot& w)
    {
        const auto at = w.assigned.begin() + static_cast<std::ptrdiff_t>(w.written);
        std::exception_ptr error;
        const announce_outcome sent =
            announce_attachments(w.socket.get(), w.child.pid, (*at)->id, (*at)->attached, error);
        if (sent == announce_outcome::failed)
        {
            m_refused.push_back(completion{std::move(*at), outcome_kind::value, {}, error});
            w.assigned.erase(at);
            --w.sent; // max_tasks_per_child counts what reaches the worker
            ring_pool_bell();
        }
        return sent;
    }

    // With m_mutex held: moves the calls announce() refused into `done`. True when any.
    bool take_refused(std::vector<completion>& done)
    {
        if (m_refused.empty())
        {
            return false;
        }
        for (completion& c : m_refused)
        {
            done.push_back(std::move(c));
        }
        m_refused.clear();
        return true;
    }

    void send_stop(worker_slot& w)
    {
        char stop[12] = {};
        const std::uint32_t length = 8;
        std::memcpy(stop, &length, sizeof length);
        // Every call came back, so the worker has read everything: the ring is empty.
        if (w.channel.writable(w.channel.header().tasks) >= sizeof stop)
        {
            (void)w.channel.write_some(w.channel.header().tasks, w.channel.task_bytes(), stop,
                                       sizeof stop);
            w.stop_sent = true;
            wake_worker(w.channel.header());
        }
    }

    // --- Receiving (m_mutex held) ------------------------------------------------------------

    // Moves the worker's result bytes into its inbox and whole results into `done`. True when
    // bytes moved.
    bool receive(worker_slot& w, std::vector<completion>& done)
    {
        shm_channel_header& header = w.channel.header();
        const std::size_t available = shm_channel::readable(header.results);
        if (available == 0)
        {
            return false;
        }
        const std::size_t old = w.inbox.size();
        w.inbox.resize(old + available);
        const std::size_t got = w.channel.read_some(header.results, w.channel.result_bytes(),
                                                    w.inbox.data() + old, available);
        w.inbox.resize(old + got);
        wake_worker(header); // it may wait for room to write a large result
        while (w.inbox.size() - w.inbox_at >= 4)
        {
            std::uint32_t length = 0;
            std::memcpy(&length, w.inbox.data() + w.inbox_at, sizeof length);
            if (w.inbox.size() - w.inbox_at - 4 < length)
            {
                break;
            }
            const char* message = w.inbox.data() + w.inbox_at + 4;
            std::uint64_t id = 0;
            std::memcpy(&id, message, sizeof id);
            completion c;
            c.kind = static_cast<outcome_kind>(message[result_kind_at - 4]);
            std::uint64_t run_ns = 0;
            std::memcpy(&run_ns, message + (result_run_ns_at - 4), sizeof run_ns);
            constexpr std::size_t head = result_prefix_size - 4; // after the length
            const std::size_t end = w.inbox_at + 4 + length;
            if (end == w.inbox.size() && length - head > g_copied_outcome)
            {
                // The last message in the inbox (a chunk's values, say): its bytes stay where
                // they are and the inbox goes with them, so a large result is not copied again.
                c.body_at = w.inbox_at + 4 + head;
                c.body = std::move(w.inbox);
                w.inbox.clear();
                w.inbox_at = 0;
            }
            else
            {
                c.body.assign(message + head, length - head);
                w.inbox_at = end;
            }
            if (w.killed)
            {
                continue; // its calls were failed by terminate()
            }
            if (id == initializer_task_id)
            {
                break_pool("the worker initializer threw " +
                           describe_remote_exception(c.outcome()));
                continue;
            }
            // Outcomes come back in the order the calls were sent.
            if (w.written == 0 || w.assigned.front()->id != id)
            {
                std::fprintf(stderr, "weft: process pool worker %d sent an unexpected result\n",
                             static_cast<int>(w.child.pid));
                continue;
            }
            c.call = std::move(w.assigned.front());
            w.assigned.pop_front();
            --w.written;
            w.ran_something = true;
            const auto took = std::chrono::nanoseconds(static_cast<std::int64_t>(run_ns));
            m_timings.record(c.call->timing_key, took);
            m_deaths_in_a_row = 0;
            done.push_back(std::move(c));
        }
        if (w.inbox_at == w.inbox.size())
        {
            w.inbox.clear();
            w.inbox_at = 0;
        }
        return true;
    }

    // --- Worker death (collector thread) -----------------------------------------------------

    // Handles a worker whose pidfd is readable: reaps it, delivers what it finished, fails the
    // call it held, sends the calls queued behind that one to other workers. Returns whether
    // a replacement is needed.
    bool bury(std::size_t index, std::vector<completion>& done)
    {
        worker_slot& w = *m_workers[index];
        siginfo_t info{};
        while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(w.child.pidfd.get()),
                        &info, WEXITED) != 0 &&
               errno == EINTR)
        {
        }
        const int exitcode = (info.si_code == CLD_EXITED) ? info.si_status : -info.si_status;
        (void)receive(w, done);
        const std::uint64_t started = w.channel.header().started.load(std::memory_order_seq_cst);
        bool planned = w.stop_sent && w.assigned.empty();
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
            std::string what = "weft: process pool worker " + std::to_string(w.child.pid) +
                               (exitcode < 0 ? " was killed by signal " + signal_name(-exitcode)
                                             : " exited with code " + std::to_string(exitcode)) +
                               " while running task " + std::to_string(task);
            completion c;
            c.call = std::move(w.assigned.front());
            c.error = std::make_exception_ptr(worker_died_error(what, w.child.pid, exitcode, task));
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

    static std::string describe_exit(int exitcode)
    {
        return exitcode < 0 ? "signal " + signal_name(-exitcode)
                            : "exit code " + std::to_string(exitcode);
    }

    void break_pool(std::string reason)
    {
        if (!m_broken)
        {
            m_broken = true;
            m_broken_reason = std::move(reason);
        }
    }

    // The restart-rate limit: too many unplanned deaths within the window break the pool.
    void count_death(int exitcode, pid_t pid)
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

    void fail_everything(std::vector<completion>& done)
    {
        auto error = std::make_exception_ptr(
            broken_executor_error("weft: the process pool is broken: " + m_broken_reason));
        for (auto& call : m_pending)
        {
            done.push_back(completion{std::move(call), outcome_kind::value, {}, error});
        }
        m_pending.clear();
    }

    bool any_assigned() const
    {
        return std::any_of(m_workers.begin(), m_workers.end(),
                           [](const auto& w) { return !w->assigned.empty(); });
    }

    // --- The collector thread ----------------------------------------------------------------

    static void finish(std::vector<completion>& done) noexcept
    {
        for (completion& c : done)
        {
            if (c.error)
            {
                c.call->fail(c.error);
            }
            else
            {
                c.call->complete(c.kind, c.outcome());
            }
        }
        done.clear();
    }

    void collect()
    {
        std::vector<completion> done;
        std::vector<pollfd> polled;
        auto last_progress = std::chrono::steady_clock::now();
        for (;;)
        {
            bool progress = false;
            bool finished = false;
            {
                std::lock_guard lock(m_mutex);
                for (auto& w : m_workers)
                {
                    // A registered waiter takes this channel's results (see "Waiters").
                    if (w->channel.header().waiters.load(std::memory_order_relaxed) == 0)
                    {
                        progress = receive(*w, done) || progress;
                    }
                    progress = pump(*w) || progress;
                }
                dispatch();
                if (m_shutdown && m_pending.empty() && !any_assigned())
                {
                    for (auto& w : m_workers)
                    {
                        if (!w->stop_sent)
                        {
                            send_stop(*w);
                        }
                    }
                    finished = m_workers.empty();
                }
                progress = take_refused(done) || progress;
            }
            finish(done);
            if (finished)
            {
                return;
            }
            const auto now = std::chrono::steady_clock::now();
            if (progress)
            {
                last_progress = now;
                continue;
            }
            // Spinning also right after the last outcome, with nothing out: a future nobody
            // blocks on (a callback, co_await) that is submitted again at once is answered
            // without waking this thread through the eventfd. Not while a thread waits in
            // result(): it collects itself, and on two CPUs a third spinner would take its CPU
            // or the worker's.
            if (now - last_progress < g_collector_spin &&
                m_helpers.load(std::memory_order_relaxed) == 0 &&
                m_maps.load(std::memory_order_relaxed) == 0)
            {
                cpu_relax();
                continue;
            }
            sleep(polled, done);
            last_progress = std::chrono::steady_clock::now();
        }
    }

    // Sleeps until a worker rings the eventfd or a worker's pidfd says it exited; handles the
    // exits.
    void sleep(std::vector<pollfd>& polled, std::vector<completion>& done)
    {
        polled.clear();
        polled.push_back(pollfd{m_bell.get(), POLLIN, 0});
        bool shutting_down = false;
        {
            std::lock_guard lock(m_mutex);
            shutting_down = m_shutdown;
            bool ready = false;
            for (auto& w : m_workers)
            {
                shm_channel_header& header = w->channel.header();
                header.pool_sleeping.store(1, std::memory_order_seq_cst);
                // Checked after the flag: a result published before the worker could see the
                // flag is found here instead, unless a registered waiter takes it: it drains
                // the channel after it unregisters (m_mutex held here, so it has not yet).
                ready = ready ||
                        (shm_channel::readable(header.results) > 0 &&
                         header.waiters.load(std::memory_order_seq_cst) == 0) ||
                        (w->written < w->assigned.size() && w->channel.writable(header.tasks) > 0);
                polled.push_back(pollfd{w->child.pidfd.get(), POLLIN, 0});
            }
            ready = ready || !m_refused.empty() ||
                    (m_shutdown && m_pending.empty() && !any_assigned() &&
                     std::any_of(m_workers.begin(), m_workers.end(),
                                 [](const auto& w) { return !w->stop_sent; }));
            if (ready)
            {
                return;
            }
        }
        // A worker told to stop that does not exit within this bound is killed, so that
        // shutdown always returns.
        const int timeout_ms = shutting_down ? 5000 : -1;
        const int n = ::poll(polled.data(), polled.size(), timeout_ms);
        std::uint64_t count = 0;
        (void)!::read(m_bell.get(), &count, sizeof count);
        {
            // Awake again: workers need not ring until the next sleep.
            std::lock_guard lock(m_mutex);
            for (auto& w : m_workers)
            {
                w->channel.header().pool_sleeping.store(0, std::memory_order_relaxed);
            }
        }
        if (n == 0 && shutting_down)
        {
            std::lock_guard lock(m_mutex);
            for (auto& w : m_workers)
            {
                if (w->stop_sent)
                {
                    ::syscall(SYS_pidfd_send_signal, w->child.pidfd.get(), SIGKILL, nullptr, 0);
                }
            }
            return;
        }
        int replacements = 0;
        {
            std::lock_guard lock(m_mutex);
            for (std::size_t i = 1; i < polled.size(); ++i)
            {
                if ((polled[i].revents & (POLLIN | POLLHUP)) == 0)
                {
                    continue;
                }
                for (std::size_t k = 0; k < m_workers.size(); ++k)
                {
                    if (m_workers[k]->child.pidfd.get() == polled[i].fd)
                    {
                        replacements += bury(k, done) ? 1 : 0;
                        break;
                    }
                }
            }
            m_starting += replacements;
        }
        // The outcomes (the dead worker's failed call among them) are delivered once the
        // replacement is in: whoever sees that failure finds the pool at its size again.
        // Outside the lock: starting a process takes milliseconds and submit() must not wait.
        for (int i = 0; i < replacements; ++i)
        {
            try
            {
                auto slot = start_worker();
                std::lock_guard lock(m_mutex);
                m_workers.push_back(std::move(slot));
                --m_starting;
                dispatch();
                (void)take_refused(done);
            }
            catch (const std::exception& e)
            {
                std::lock_guard lock(m_mutex);
                --m_starting;
                if (m_workers.empty())
                {
                    break_pool(std::string("no worker could be started: ") + e.what());
                    fail_everything(done);
                }
            }
        }
        finish(done);
    }

    void ring_pool_bell() noexcept
    {
        const std::uint64_t one = 1;
        (void)!::write(m_bell.get(), &one, sizeof one);
    }

    const int m_max_workers;
    const start_method m_method;
    const std::uint32_t m_max_tasks;
    const int m_max_retries;
    const process_pool_executor::death_limit m_restart_limit;
    pool_worker_config m_config;
    attachments m_initializer_attached; // sent to every worker with the initializer
    uring::owned_fd m_bell;             // the workers' (and shutdown's) way to wake the collector

    mutable std::mutex m_mutex; // everything below
    std::vector<std::unique_ptr<worker_slot>> m_workers;
    std::deque<std::shared_ptr<pool_call_base>> m_pending;
    std::vector<completion> m_refused; // calls whose descriptors could not be sent (announce)
    bool m_shutdown = false;
    bool m_broken = false;
    std::string m_broken_reason;
    int m_deaths_in_a_row = 0;
    task_timings m_timings; // how many of a task to write ahead into a worker's ring
    std::deque<std::chrono::steady_clock::time_point> m_deaths; // within the restart window
    int m_started_workers = 0;
    int m_starting = 0; // replacements the collector is starting

    // Slots of dead workers that waiters still reference (worker_slot::pins).
    std::vector<std::unique_ptr<worker_slot>> m_retired;
    // Threads inside help(): the collector does not spin meanwhile.
    std::atomic<int> m_helpers{0};
    // Chunked maps in progress (pool_map_presence): nor while any lives. Measured on the 2-core
    // VM: executor.map at chunksize 1,000 gave ~12% more items/s without the spin.
    std::atomic<int> m_maps{0};
    friend class pool_map_presence;
    std::mutex m_join_mutex;
    std::thread m_collector;
};

pool_map_presence::pool_map_presence(std::shared_ptr<pool_core> pool) noexcept
    : m_pool(std::move(pool))
{
    m_pool->m_maps.fetch_add(1, std::memory_order_relaxed);
}

pool_map_presence::~pool_map_presence()
{
    if (m_pool != nullptr)
    {
        m_pool->m_maps.fetch_sub(1, std::memory_order_relaxed);
    }
}

bool pool_help_wait(pool_core& pool, const pool_call_base& call, const future_state_base& state,
                    future_state_base::deadline until) noexcept
{
    return pool.help(call, state, until);
}

} // namespace detail

process_pool_executor::process_pool_executor(options opts)
{
    if (opts.max_workers < 0)
    {
        throw std::invalid_argument("weft: max_workers must be greater than 0");
    }
    if (opts.max_tasks_per_child < 0)
    {
        throw std::invalid_argument("weft: max_tasks_per_child must be >= 1");
    }
    if (opts.max_retries < 0)
    {
        throw std::invalid_argument("weft: max_retries must be >= 0");
    }
    if (opts.restart_limit.deaths < 0 || opts.restart_limit.within.count() <= 0)
    {
        throw std::invalid_argument("weft: restart_limit needs deaths >= 0 and a positive window");
    }
    m_core = std::make_shared<detail::pool_core>(opts);
}

// Futures keep the pool's core alive (pool_call_base::pool), so its destructor may run much
// later: shutting down is this destructor's job.
process_pool_executor::~process_pool_executor()
{
    m_core->shutdown(true, false);
}

void process_pool_executor::shutdown(bool wait, bool cancel_futures)
{
    m_core->shutdown(wait, cancel_futures);
}

int process_pool_executor::max_workers() const noexcept
{
    return m_core->max_workers();
}

std::vector<pid_t> process_pool_executor::worker_pids() const
{
    return m_core->worker_pids();
}

void process_pool_executor::terminate()
{
    m_core->terminate();
}

detail::map_window process_pool_executor::default_window(const map_options& opts) const
{
    if (opts.window != 0)
    {
        return {.chunks = opts.window};
    }
    // Two chunks per worker keep it busy when a chunk takes longer than a round trip (~100 µs
    // here). Small chunks need more in flight to hide it: the map refills half a window at a
    // time, and the half still in flight must outlast a sleeping worker's wake-up (50-100 µs on
    // the 2-core VM, where 4,096 trivial calls per worker left idle gaps; 32,768 did not). So:
    // up to 32,768 calls and 4,096 chunks per worker, as long as the messages stay under 4 MiB
    // per worker, so memory stays bounded either way.
    const auto workers = static_cast<std::size_t>(m_core->max_workers());
    return {.min_chunks = 2 * workers,
            .max_chunks = 4096 * workers,
            .items = 32768 * workers,
            .bytes = (4U << 20) * workers};
}

detail::pool_map_presence process_pool_executor::map_presence() const noexcept
{
    return detail::pool_map_presence(m_core);
}

std::uint64_t process_pool_executor::next_task_id() noexcept
{
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

void process_pool_executor::enqueue(std::shared_ptr<detail::pool_call_base> call)
{
    call->pool = m_core;
    m_core->enqueue(std::move(call));
}

void process_pool_executor::enqueue(std::vector<std::shared_ptr<detail::pool_call_base>>& calls)
{
    for (auto& call : calls)
    {
        call->pool = m_core;
    }
    m_core->enqueue(calls);
}

} // namespace weft
