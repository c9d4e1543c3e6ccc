#include "executors/processes/detail/pool_worker.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <functional>
#include <map>
#include <optional>
#include <pthread.h>
#include <sched.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <utility>

#include "executors/detail/futex.hpp"
#include "executors/processes/detail/exception_description.hpp"
#include "executors/processes/detail/launch.hpp"
#include "executors/processes/detail/pool_task.hpp"
#include "executors/processes/detail/shm_channel.hpp"
#include "executors/processes/detail/throw_sites.hpp"
#include "executors/shared/detail/attachments.hpp"

namespace weft::detail
{
namespace
{

// An idle worker spins about the price of one cross-CPU wake-up (FLOORS.md: ~50 µs here)
// before it sleeps: back-to-back tasks then cost no system call on either side. Never on one
// CPU, where spinning only delays the peer that would give us work.
const std::chrono::nanoseconds g_spin = std::thread::hardware_concurrency() > 1
                                            ? std::chrono::microseconds(50)
                                            : std::chrono::nanoseconds(0);

// How long a worker holds back waking the sleeping collector for a result, in case a caller
// on its way into result() takes it (notify_results). Short: a future nobody blocks on (a
// callback, co_await) waits this much longer. Never on one CPU.
const std::chrono::nanoseconds g_notify_grace = std::thread::hardware_concurrency() > 1
                                                    ? std::chrono::microseconds(10)
                                                    : std::chrono::nanoseconds(0);

// Exit status of a worker that can no longer tell the pool it has results: a task closed the
// descriptor it rings the pool's collector through. Its death is how the pool learns (its
// pidfd), and what is in the ring is collected then.
constexpr int g_exit_deaf = 70;

// Set in the child of a fork() made by this worker's own task (pthread_atfork). Where the task
// returns in both processes, the child must not go on as a second worker reading and writing
// the same rings: it exits instead, with nothing sent.
bool g_forked_copy = false;

void leave_if_forked_copy() noexcept
{
    if (g_forked_copy)
    {
        std::fprintf(stderr,
                     "weft: a process pool task called fork() and returned in the child (pid "
                     "%d); the child exits, the worker goes on in the parent\n",
                     ::getpid());
        ::_exit(0);
    }
}

// Appends the exception being handled in words (decode_remote_exception reads them).
void encode_current_exception(std::string& out)
{
    exception_description caught = describe_current_exception();
    wire_writer writer(out);
    writer.archive()(caught.type_name, caught.what, caught.standard_base, caught.code,
                     caught.category, caught.backtrace);
}

class worker
{
  public:
    worker(int channel_fd, int pool_bell_fd)
        : m_channel(channel_fd, false), m_header(m_channel.header()), m_pool_bell(pool_bell_fd)
    {
    }

    // Blocks until `n` task bytes have been read into `to`.
    void read_exact(char* to, std::size_t n)
    {
        while (n > 0)
        {
            const std::size_t got =
                m_channel.read_some(m_header.tasks, m_channel.task_bytes(), to, n);
            if (got > 0)
            {
                to += got;
                n -= got;
                if (m_header.tasks_blocked.load(std::memory_order_seq_cst) != 0)
                {
                    notify_room(); // the pool waits for room to send the rest
                }
                continue;
            }
            wait_until([this] { return shm_channel::readable(m_header.tasks) > 0; });
        }
    }

    // Blocks until all of `bytes` are in the results ring.
    void write_all(std::string_view bytes)
    {
        while (!bytes.empty())
        {
            const std::size_t put = m_channel.write_some(m_header.results, m_channel.result_bytes(),
                                                         bytes.data(), bytes.size());
            if (put > 0)
            {
                bytes.remove_prefix(put);
                notify_results();
                continue;
            }
            // seq_cst, before the sleeping flag and the last look at the ring: a pool that
            // reads the flag as 0 made its room before that look (pool_core::receive).
            m_header.results_blocked.store(1, std::memory_order_seq_cst);
            wait_until([this] { return m_channel.writable(m_header.results) > 0; });
            m_header.results_blocked.store(0, std::memory_order_relaxed);
        }
    }

    // Reads the next task message the pool did not take back into `in` (without its length),
    // its id's flags cleared there; `carries`: descriptors went ahead of it over `socket`.
    // Returns its id (0: stop).
    std::uint64_t next_task(std::string& in, int socket, bool& carries)
    {
        for (;;)
        {
            std::uint32_t length = 0;
            read_exact(reinterpret_cast<char*>(&length), sizeof length);
            const bool mine = claim();
            in.resize(length);
            read_exact(in.data(), length);
            std::uint64_t id = 0;
            std::memcpy(&id, in.data(), sizeof id);
            carries = (id & carries_descriptors) != 0;
            id &= ~id_flags;
            if (!mine)
            {
                if (carries)
                {
                    // Read now, or they would stay in the socket: the pool sends a large set of
                    // descriptors only to a worker that has read every datagram sent before.
                    attachment_inbox dropped(socket, id);
                    dropped.drop_unfetched();
                }
                continue;
            }
            std::memcpy(in.data(), &id, sizeof id);
            return id;
        }
    }

    shm_channel_header& header() noexcept { return m_header; }

  private:
    // At the start of a message's id: claims the message (its id's top byte, pool_task.hpp)
    // before reading past that byte, unless the pool took it back first.
    bool claim()
    {
        constexpr std::size_t id_size = 8;
        if (shm_channel::readable(m_header.tasks) < id_size)
        {
            wait_until([this] { return shm_channel::readable(m_header.tasks) >= id_size; });
        }
        const std::uint64_t tail = m_header.tasks.tail.load(std::memory_order_relaxed);
        auto* byte = reinterpret_cast<unsigned char*>(
            m_channel.task_bytes() +
            ((tail + claim_byte_at - sizeof(std::uint32_t)) & (m_channel.capacity() - 1)));
        return win_claim(*byte, claimed_bit, taken_back_bit);
    }

    // Spin, then sleep on the bell. The flag is set before the last check of `ready` and the
    // pool checks the flag after publishing (both seq_cst), so a wake-up cannot be lost.
    template <class Ready>
    void wait_until(Ready ready)
    {
        const int cpu = ::sched_getcpu();
        m_header.worker_cpu.store(cpu, std::memory_order_relaxed);
        if (m_owe_collector)
        {
            // Off this CPU for a moment rather than spinning: the caller the result is for
            // most likely waits for it (notify_results).
            const std::uint32_t bell = m_header.worker_bell.load(std::memory_order_seq_cst);
            m_header.worker_sleeping.store(1, std::memory_order_seq_cst);
            if (!ready())
            {
                (void)shared_futex_wait_until(m_header.worker_bell, bell,
                                              std::chrono::steady_clock::now() + g_notify_grace);
            }
            m_header.worker_sleeping.store(0, std::memory_order_seq_cst);
            settle();
            if (ready())
            {
                return;
            }
        }
        // No spin next to the waiter's CPU (shm_channel_header::worker_cpu), nor after waking
        // a sleeping waiter: it needs a wake-up before it can submit again, and the scheduler
        // may well wake it on this CPU.
        const bool spin =
            !m_woke_waiter && m_header.waiter_cpu.load(std::memory_order_relaxed) != cpu;
        if (spin_for(ready, spin ? g_spin : std::chrono::nanoseconds(0)))
        {
            return;
        }
        const std::uint32_t bell = m_header.worker_bell.load(std::memory_order_seq_cst);
        m_header.worker_sleeping.store(1, std::memory_order_seq_cst);
        if (!ready())
        {
            shared_futex_wait(m_header.worker_bell, bell);
        }
        m_header.worker_sleeping.store(0, std::memory_order_seq_cst);
    }

    // After publishing result bytes. A thread of the pool registered in `waiters` collects
    // them itself: it sees them while it spins, or sleeps on waiter_bell after counting
    // itself in waiter_sleepers and checking the ring (the head store in write_some and these
    // loads are seq_cst, so one side sees the other). Otherwise the collector thread, if it
    // sleeps; but first, briefly, give a caller that is on its way into result() the chance
    // to register or take the result: waking the collector costs a wake-up (~50 µs on the
    // 2-core VM) and a third runnable thread on two CPUs.
    void notify_results() noexcept
    {
        m_woke_waiter = false;
        m_owe_collector = false; // this decision covers every byte in the ring
        if (ring_waiters())
        {
            return;
        }
        if (m_header.pool_sleeping.load(std::memory_order_seq_cst) == 0)
        {
            return;
        }
        if (m_header.waiter_cpu.load(std::memory_order_relaxed) == ::sched_getcpu())
        {
            // The caller last waited on this CPU: this worker probably preempted it on its way
            // into result(), and spinning would only keep it out. Decided once this worker
            // has slept briefly or starts its next task (settle).
            m_owe_collector = true;
            return;
        }
        if (spin_for(
                [this]
                {
                    return m_header.waiters.load(std::memory_order_seq_cst) != 0 ||
                           shm_channel::readable(m_header.results) == 0 ||
                           shm_channel::readable(m_header.tasks) != 0;
                },
                g_notify_grace) &&
            (m_header.waiters.load(std::memory_order_seq_cst) != 0 ||
             shm_channel::readable(m_header.results) == 0))
        {
            // A waiter that registered after the head store checks the ring before it
            // sleeps; a result already taken needs nobody.
            return;
        }
        wake_collector();
    }

  public:
    // Pays a deferred notify_results: the collector, unless a waiter registered (it checks
    // the ring after registering) or the result was taken.
    void settle() noexcept
    {
        if (!m_owe_collector)
        {
            return;
        }
        m_owe_collector = false;
        if (m_header.waiters.load(std::memory_order_seq_cst) == 0 &&
            shm_channel::readable(m_header.results) != 0)
        {
            wake_collector();
        }
    }

  private:
    // After reading task bytes the pool was blocked on.
    void notify_room() noexcept
    {
        if (!ring_waiters())
        {
            wake_collector();
        }
    }

    // True when a waiter is registered (and woken if it sleeps): it pumps and collects.
    bool ring_waiters() noexcept
    {
        if (m_header.waiters.load(std::memory_order_seq_cst) == 0)
        {
            return false;
        }
        if (m_header.waiter_sleepers.load(std::memory_order_seq_cst) != 0)
        {
            m_header.waiter_bell.fetch_add(1, std::memory_order_seq_cst);
            shared_futex_wake(m_header.waiter_bell);
            m_woke_waiter = true;
        }
        return true;
    }

    // The pool's collector sleeps in poll() only after setting pool_sleeping: one write to
    // its eventfd wakes it; the exchange keeps a burst of results to one write.
    void wake_collector() noexcept
    {
        if (m_header.pool_sleeping.load(std::memory_order_seq_cst) != 0 &&
            m_header.pool_sleeping.exchange(0, std::memory_order_seq_cst) != 0)
        {
            const std::uint64_t one = 1;
            ssize_t wrote = -1;
            do
            {
                wrote = ::write(m_pool_bell, &one, sizeof one);
            } while (wrote < 0 && errno == EINTR);
            if (wrote < 0 && errno != EAGAIN)
            {
                std::fprintf(stderr,
                             "weft: process pool worker %d cannot wake its pool (%s: did a task "
                             "close the worker's file descriptors?); it exits\n",
                             ::getpid(), std::strerror(errno));
                ::_exit(g_exit_deaf);
            }
        }
    }

    shm_channel m_channel;
    shm_channel_header& m_header;
    int m_pool_bell;
    bool m_woke_waiter = false;   // the last result woke a sleeping waiter
    bool m_owe_collector = false; // notify_results deferred its decision
};

struct resolved_code
{
    pool_trampoline entry = nullptr;
    std::uintptr_t target = 0;
};

// Runs one task message (without its length) and builds its result message in `out`.
class task_runner
{
  public:
    void run(std::string_view in, std::string& out)
    {
        std::uint64_t id = 0;
        std::memcpy(&id, in.data(), sizeof id);
        out.assign(result_prefix_size, '\0');
        std::memcpy(out.data() + 4, &id, sizeof id);
        const auto started = std::chrono::steady_clock::now();
        const throw_site_recording recording(__builtin_frame_address(0));
        try
        {
            std::uint32_t code_size = 0;
            std::memcpy(&code_size, in.data() + 8, sizeof code_size);
            const std::string_view code = in.substr(12, code_size);
            auto found = m_cache.find(code);
            if (found == m_cache.end())
            {
                wire_reader reader(code);
                code_address entry;
                code_address target;
                bool has_target = false;
                reader.archive()(entry, target, has_target);
                resolved_code resolved{reinterpret_cast<pool_trampoline>(resolve_code(entry)),
                                       has_target ? resolve_code(target) : 0};
                found = m_cache.emplace(std::string(code), resolved).first;
            }
            found->second.entry(found->second.target, in.substr(12 + code_size), out);
        }
        catch (...)
        {
            out.resize(result_prefix_size);
            out[result_kind_at] = static_cast<char>(outcome_kind::exception);
            encode_current_exception(out);
        }
        // Timed here, not by the pool: a pool that receives results in bursts would see
        // gaps between receipts, not run times, and choose a shallow dispatch depth.
        const auto run_ns =
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::steady_clock::now() - started)
                                           .count());
        std::memcpy(out.data() + result_run_ns_at, &run_ns, sizeof run_ns);
        const auto out_length = static_cast<std::uint32_t>(out.size() - 4);
        std::memcpy(out.data(), &out_length, sizeof out_length);
    }

  private:
    // Resolving walks the loaded modules: once per distinct (trampoline, target).
    std::map<std::string, resolved_code, std::less<>> m_cache;
};

// The resident set size, read from /proc/self/statm through a descriptor kept open: one
// pread per task, and only when a bound is set.
class resident_memory
{
  public:
    resident_memory() : m_fd(::open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) {}
    resident_memory(const resident_memory&) = delete;
    resident_memory& operator=(const resident_memory&) = delete;
    ~resident_memory()
    {
        if (m_fd >= 0)
        {
            ::close(m_fd);
        }
    }

    // 0 when it cannot be read.
    std::uint64_t bytes() const noexcept
    {
        char text[128];
        const ssize_t n = ::pread(m_fd, text, sizeof text - 1, 0);
        if (n <= 0)
        {
            return 0;
        }
        text[n] = '\0';
        unsigned long long size = 0;
        unsigned long long resident = 0;
        if (std::sscanf(text, "%llu %llu", &size, &resident) != 2)
        {
            return 0;
        }
        return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    }

  private:
    int m_fd;
};

// A worker is CPU-bound work: SCHED_BATCH, so that waking it does not preempt the thread that
// woke it. On two CPUs a submitting thread that woke a sleeping worker otherwise lost its CPU
// to it at once, and a burst of submits ran at the pace of those hand-overs (BENCHMARKS.md
// "Workers under SCHED_BATCH"). Its share of the CPU stays what its nice value says. What the
// worker's tasks fork starts under SCHED_OTHER again (SCHED_RESET_ON_FORK resets only
// real-time policies).
void run_as_batch_work() noexcept
{
    const sched_param none{};
    (void)::sched_setscheduler(0, SCHED_BATCH, &none);
    (void)::pthread_atfork(nullptr, nullptr,
                           []
                           {
                               const sched_param zero{};
                               (void)::sched_setscheduler(0, SCHED_OTHER, &zero);
                           });
}

} // namespace

void run_pool_worker(int channel_fd, int pool_bell_fd, int attachment_socket,
                     const pool_worker_config& config)
{
    // The terminal's Ctrl-C goes to the whole foreground process group: the parent decides
    // what an interrupt means for its pool, not each worker.
    (void)std::signal(SIGINT, SIG_IGN);
    run_as_batch_work();
    (void)::pthread_atfork(nullptr, nullptr, [] { g_forked_copy = true; });
    worker self(channel_fd, pool_bell_fd);
    ::close(channel_fd); // the mapping stays
    task_runner runner;
    std::string in;
    std::string out;
    if (!config.initializer.empty())
    {
        attachment_inbox inbox(attachment_socket, initializer_task_id);
        runner.run(std::string_view(config.initializer).substr(4), out);
        leave_if_forked_copy();
        if (out[result_kind_at] == static_cast<char>(outcome_kind::exception))
        {
            self.write_all(out); // the pool breaks: no retry storm of failing initializers
            return;
        }
    }
    std::optional<resident_memory> memory;
    if (config.max_memory != 0)
    {
        memory.emplace();
    }
    for (std::uint32_t done = 0; config.max_tasks == 0 || done < config.max_tasks; ++done)
    {
        bool carries = false;
        const std::uint64_t id = self.next_task(in, attachment_socket, carries);
        if (id == 0)
        {
            return; // stop
        }
        self.settle();
        self.header().started.store(id, std::memory_order_seq_cst);
        self.header().worker_cpu.store(::sched_getcpu(), std::memory_order_relaxed);
        {
            attachment_inbox inbox(attachment_socket, id);
            runner.run(in, out);
            leave_if_forked_copy();
            if (carries)
            {
                inbox.drop_unfetched();
            }
        }
        self.write_all(out);
        if (memory && memory->bytes() > config.max_memory)
        {
            return; // retired: the pool starts a fresh worker
        }
    }
}

void pool_worker_main(pool_worker_config config)
{
    const std::vector<int>& fds = inherited_fds();
    if (fds.size() != 3)
    {
        throw std::runtime_error("weft: a pool worker started without its channel");
    }
    run_pool_worker(fds[0], fds[1], fds[2], config);
}

} // namespace weft::detail
