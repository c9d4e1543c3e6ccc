#pragma once
// The process pool itself, behind process_pool_executor: its workers, its queue and the
// collector thread. Shared by the executor and by the futures of its calls (pool_call_base),
// so that a waiter can enter it whatever happens to the executor.
//
// One file per job:
//   pool_core.cpp            construction, submission, shutdown and terminate
//   pool_core_waiters.cpp    threads blocked in result() collecting results themselves
//   pool_core_sending.cpp    handing queued calls to workers and writing them into the rings
//   pool_core_rebalancing.cpp  taking back calls that wait behind a long one for idle workers
//   pool_core_receiving.cpp  reading outcomes out of the rings
//   pool_core_workers.cpp    starting workers, burying dead ones, breaking the pool
//   pool_core_collector.cpp  the collector thread: its loop and its sleep

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <poll.h>
#include <signal.h>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

#include "executors/detail/future_state.hpp"
#include "executors/detail/spinning_mutex.hpp"
#include "executors/detail/thread_without_signals.hpp"
#include "executors/processes/detail/announce.hpp"
#include "executors/processes/detail/pool_completion.hpp"
#include "executors/processes/detail/pool_task.hpp"
#include "executors/processes/detail/pool_worker.hpp"
#include "executors/processes/detail/task_timings.hpp"
#include "executors/processes/detail/worker_slot.hpp"
#include "executors/processes/process_pool_executor.hpp"
#include "executors/processes/start_method.hpp"
#include "executors/shared/detail/attachments.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

class pool_core
{
  public:
    /// Starts the workers, then the collector thread.
    explicit pool_core(const process_pool_executor::options& opts);
    ~pool_core() { shutdown(true, false); }

    int max_workers() const noexcept { return m_max_workers; }
    std::vector<pid_t> worker_pids() const;

    void enqueue(std::shared_ptr<pool_call_base> call);
    /// A batch (a chunked map's refill): one lock and one dispatch, so that each idle worker
    /// is woken once for all of it. All or nothing.
    void enqueue(std::vector<std::shared_ptr<pool_call_base>>& calls);

    void shutdown(bool wait, bool cancel_futures);
    /// shutdown(wait, cancel_futures = true), then `grace` for the calls running to finish;
    /// after it, terminate(). Returns once the workers are reaped.
    void shutdown_within(std::chrono::nanoseconds grace);
    /// Kills every worker now and fails every call that has not finished with
    /// pool_terminated_error saying `why`; later submissions are refused.
    void terminate(const char* why = "weft: the process pool was terminated before this task "
                                     "finished");

    /// A thread blocked in result() on `call` collects results until `state` is done or `until`
    /// passes (true), or returns false when it cannot (pool_core_waiters.cpp).
    bool help(const pool_call_base& call, const future_state_base& state,
              future_state_base::deadline until) noexcept;

  private:
    // --- pool_core.cpp (m_mutex held) --------------------------------------------------------

    /// Throws unless new calls may be queued.
    void require_accepting() const;
    bool any_assigned() const;
    /// Wakes the collector thread.
    void ring_pool_bell() noexcept;

    // --- pool_core_waiters.cpp ---------------------------------------------------------------

    /// m_mutex held: what the collector's loop does, for every channel.
    void drain(std::vector<pool_completion>& done, std::vector<worker_slot*>& pinned);
    /// After completing results taken from channels that other waiters are registered on.
    void ring_pinned(std::vector<worker_slot*>& pinned) noexcept;
    /// m_mutex held.
    void unpin(worker_slot& w);
    /// m_mutex held: the live worker whose queue holds `call`.
    worker_slot* slot_of(const pool_call_base& call) const noexcept;

    // --- pool_core_sending.cpp (m_mutex held) ------------------------------------------------

    /// Hands pending calls to the least loaded workers that can take one; when none is left
    /// and a worker idles, first takes back calls waiting in the busiest worker's ring.
    void dispatch();
    /// The assignment part of dispatch(). True when any call was assigned.
    bool assign_pending();
    /// Writes what fits of the assigned calls not yet in the ring; wakes the worker if it
    /// sleeps. True when bytes moved.
    bool pump(worker_slot& w);
    /// Sends the descriptors of assigned[written]'s shared memory ahead of its bytes.
    announce_outcome announce(worker_slot& w);
    /// Kills a worker found deaf (worker_slot::deaf) once no call written to it is left.
    static void kill_if_deaf_and_idle(worker_slot& w) noexcept;
    /// Moves the calls announce() refused into `done`. True when any.
    bool take_refused(std::vector<pool_completion>& done);
    void send_stop(worker_slot& w);

    // --- pool_core_rebalancing.cpp (m_mutex held) --------------------------------------------

    /// While a worker idles and no call is pending: takes back into the queue a share of the
    /// calls waiting in the ring of the worker with the most of them. True when any came back.
    bool take_back_for_idle_workers();
    /// Takes back up to `most` of the calls waiting behind the one `w` runs, the last ones
    /// first; those it already claimed stay. Returns how many came back (to m_pending's front,
    /// in order).
    std::size_t take_back(worker_slot& w, std::size_t most);

    // --- pool_core_receiving.cpp (m_mutex held) ----------------------------------------------

    /// Moves the worker's result bytes into its inbox and whole results into `done`. True when
    /// bytes moved.
    bool receive(worker_slot& w, std::vector<pool_completion>& done);

    // --- pool_core_workers.cpp ---------------------------------------------------------------

    std::unique_ptr<worker_slot> start_worker();
    /// Collector thread, m_mutex held: handles a worker whose pidfd is readable. Returns
    /// whether a replacement is needed.
    bool bury(std::size_t index, std::vector<pool_completion>& done);
    void break_pool(std::string reason);
    /// The restart-rate limit: too many unplanned deaths within the window break the pool.
    void count_death(int exitcode, pid_t pid);
    void fail_everything(std::vector<pool_completion>& done);

    // --- pool_core_collector.cpp -------------------------------------------------------------

    /// Completes (or fails) every call in `done`, outside m_mutex: that runs their callbacks.
    static void finish(std::vector<pool_completion>& done) noexcept;
    /// The collector thread's loop.
    void collect();
    /// Sleeps until a worker rings the eventfd or a worker's pidfd says it exited; handles
    /// the exits.
    void sleep(std::vector<pollfd>& polled, std::vector<pool_completion>& done);

    const int m_max_workers;
    const start_method m_method;
    const std::uint32_t m_max_tasks;
    const int m_max_retries;
    const process_pool_executor::death_limit m_restart_limit;
    pool_worker_config m_config;
    attachments m_initializer_attached; // sent to every worker with the initializer
    uring::owned_fd m_bell;             // the workers' (and shutdown's) way to wake the collector

    mutable spinning_mutex m_mutex; // everything below
    std::vector<std::unique_ptr<worker_slot>> m_workers;
    std::deque<std::shared_ptr<pool_call_base>> m_pending;
    std::vector<pool_completion> m_refused; // calls whose descriptors could not be sent
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
    // The mask of the thread that made the pool: its workers, replacements included, start
    // with it (the collector blocks every asynchronous signal).
    const sigset_t m_child_mask = current_signal_mask();
    std::thread m_collector;
    // Set by the collector as it returns: shutdown_within's bounded wait.
    std::mutex m_finished_mutex;
    std::condition_variable m_finished_changed;
    bool m_finished = false;
};

} // namespace weft::detail
