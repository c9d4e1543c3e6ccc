#include "executors/thread_pool_executor.hpp"

#include <algorithm>
#include <cstdio>
#include <pthread.h>
#include <sched.h>
#include <stdexcept>
#include <string>

#include "executors/detail/futex.hpp"
#include "executors/process_cpu_count.hpp"
#include "executors/threads/thread.hpp"

namespace weft
{
namespace
{

std::atomic<int> g_pool_counter{0};

int default_max_workers()
{
    return std::min(32, process_cpu_count() + 4);
}

// An idle worker spins this long before it sleeps: a cross-CPU futex wake-up costs ~50 µs here
// (FLOORS.md) while a spinning worker answers in under a microsecond, so spinning for about the
// price of one wake-up bounds the waste at 2x. Only one worker spins at a time, and none on a
// single CPU, where spinning only steals the submitter's time.
const std::chrono::nanoseconds g_idle_spin = std::thread::hardware_concurrency() > 1
                                                 ? std::chrono::microseconds(50)
                                                 : std::chrono::nanoseconds(0);

void report_initializer_error(std::exception_ptr error)
{
    try
    {
        std::rethrow_exception(error);
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "weft: exception in thread pool initializer: %s\n", e.what());
    }
    catch (...)
    {
        std::fprintf(stderr, "weft: exception in thread pool initializer (not a std::exception)\n");
    }
}

} // namespace

thread_pool_executor::thread_pool_executor(options opts)
    : m_max_workers(opts.max_workers.value_or(default_max_workers())),
      m_name_prefix(std::move(opts.thread_name_prefix)), m_initializer(std::move(opts.initializer))
{
    if (m_max_workers <= 0)
    {
        throw std::invalid_argument("weft: max_workers must be greater than 0");
    }
    if (m_name_prefix.empty())
    {
        m_name_prefix = "ThreadPoolExecutor-" + std::to_string(g_pool_counter.fetch_add(1));
    }
}

thread_pool_executor::~thread_pool_executor()
{
    shutdown(true);
}

void thread_pool_executor::validate(const map_options& opts)
{
    if (opts.chunksize < 1)
    {
        throw std::invalid_argument("weft: chunksize must be >= 1");
    }
}

void thread_pool_executor::enqueue(std::shared_ptr<detail::work_item> item)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_broken)
        {
            throw broken_executor_error(
                "weft: a thread initializer failed, the thread pool is not usable anymore");
        }
        if (m_shutdown)
        {
            throw invalid_state_error("weft: cannot schedule new futures after shutdown");
        }
        m_queue.push_back(std::move(item));
        m_queued.fetch_add(1, std::memory_order_seq_cst);

        // Reuse an idle thread when there is one, as Python does; otherwise start one.
        int tokens = m_idle_tokens.load(std::memory_order_relaxed);
        while (tokens > 0 && !m_idle_tokens.compare_exchange_weak(tokens, tokens - 1))
        {
        }
        if (tokens <= 0 && m_threads.size() < static_cast<std::size_t>(m_max_workers))
        {
            start_thread_locked();
        }
    }
    wake_one_if_needed();
}

void thread_pool_executor::wake_one_if_needed() noexcept
{
    // A spinning worker will take the item without a system call; otherwise wake a sleeper.
    // Pairs with the spinner's clear-then-sleep and the sleeper's increment-then-recheck in
    // next_item(): all seq_cst, so either the worker sees the queued item or this sees it.
    // At most one wake-up is in flight: the woken thread clears m_waking once it runs, and a
    // burst is then passed on by next_item(), so a fast submitter makes few system calls.
    if (m_spinners.load(std::memory_order_seq_cst) == 0 &&
        m_sleepers.load(std::memory_order_seq_cst) > 0 &&
        !m_waking.exchange(true, std::memory_order_seq_cst))
    {
        m_wake_seq.fetch_add(1, std::memory_order_seq_cst);
        detail::futex_wake(m_wake_seq, 1);
    }
}

void thread_pool_executor::start_thread_locked()
{
    std::size_t index = m_threads.size();
    m_threads.emplace_back([this, index] { worker(index); });
    m_thread_ids.push_back(m_threads.back().get_id());
}

std::shared_ptr<detail::work_item> thread_pool_executor::next_item()
{
    for (;;)
    {
        std::shared_ptr<detail::work_item> item;
        bool more = false;
        {
            std::lock_guard lock(m_mutex);
            if (!m_queue.empty())
            {
                item = std::move(m_queue.front());
                m_queue.pop_front();
                m_queued.fetch_sub(1, std::memory_order_seq_cst);
                more = !m_queue.empty();
            }
            else if (m_shutdown || m_broken)
            {
                return nullptr;
            }
        }
        if (item)
        {
            if (more)
            {
                // A burst: pass the wake-up on, so that the submitter makes one system call and
                // the sleepers wake one another.
                wake_one_if_needed();
            }
            return item;
        }
        int no_spinner = 0;
        if (m_spinners.compare_exchange_strong(no_spinner, 1, std::memory_order_acq_rel))
        {
            bool found = detail::spin_for(
                [this] { return m_queued.load(std::memory_order_relaxed) > 0; }, g_idle_spin);
            m_spinners.store(0, std::memory_order_seq_cst);
            if (found)
            {
                continue;
            }
        }
        std::uint32_t seq = m_wake_seq.load(std::memory_order_seq_cst);
        m_sleepers.fetch_add(1, std::memory_order_seq_cst);
        // A thread about to sleep re-arms wake-ups: a wake-up counted as in flight may have found
        // nobody asleep (its target saw the item and stayed up), and must not keep this thread,
        // and every later submit, from a wake-up of its own.
        m_waking.store(false, std::memory_order_seq_cst);
        bool stop = false;
        {
            std::lock_guard lock(m_mutex);
            stop = m_shutdown || m_broken;
        }
        if (m_queued.load(std::memory_order_seq_cst) == 0 && !stop)
        {
            detail::futex_wait(m_wake_seq, seq, std::nullopt);
        }
        m_sleepers.fetch_sub(1, std::memory_order_seq_cst);
        m_waking.store(false, std::memory_order_seq_cst);
    }
}

void thread_pool_executor::worker(std::size_t index)
{
    set_current_thread_name(m_name_prefix + "_" + std::to_string(index));
    if (m_initializer)
    {
        try
        {
            m_initializer();
        }
        catch (...)
        {
            report_initializer_error(std::current_exception());
            break_pool();
            return;
        }
    }
    while (auto item = next_item())
    {
        // The idle token is given back before the result is published: a caller woken by it
        // that submits again at once finds this thread idle, as Python's test_idle_thread_reuse
        // expects.
        item->run([](void* pool)
                  { static_cast<thread_pool_executor*>(pool)->m_idle_tokens.fetch_add(1); },
                  this);
    }
}

void thread_pool_executor::break_pool()
{
    std::deque<std::shared_ptr<detail::work_item>> pending;
    {
        std::lock_guard lock(m_mutex);
        if (!m_broken)
        {
            m_broken = std::make_exception_ptr(broken_executor_error(
                "weft: a thread initializer failed, the thread pool is not usable anymore"));
        }
        pending.swap(m_queue);
        m_queued.store(0, std::memory_order_relaxed);
    }
    for (auto& item : pending)
    {
        item->fail(m_broken);
    }
    m_wake_seq.fetch_add(1, std::memory_order_seq_cst);
    detail::futex_wake(m_wake_seq);
}

void thread_pool_executor::shutdown(bool wait, bool cancel_futures)
{
    std::deque<std::shared_ptr<detail::work_item>> cancelled;
    {
        std::lock_guard lock(m_mutex);
        if (wait && std::find(m_thread_ids.begin(), m_thread_ids.end(),
                              std::this_thread::get_id()) != m_thread_ids.end())
        {
            throw invalid_state_error("weft: shutdown(wait = true) on one of the pool's own "
                                      "threads would wait for itself");
        }
        m_shutdown = true;
        if (cancel_futures)
        {
            cancelled.swap(m_queue);
            m_queued.store(0, std::memory_order_relaxed);
        }
    }
    for (auto& item : cancelled)
    {
        item->cancel();
    }
    m_wake_seq.fetch_add(1, std::memory_order_seq_cst);
    detail::futex_wake(m_wake_seq);
    if (!wait)
    {
        return;
    }
    std::lock_guard join_lock(m_join_mutex);
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(m_mutex);
        threads.swap(m_threads);
    }
    for (auto& t : threads)
    {
        t.join();
    }
}

} // namespace weft
