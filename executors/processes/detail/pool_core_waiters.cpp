// Threads blocked in result() that collect the pool's results themselves.
//
// A thread blocked in result() on a call that a worker holds collects the pool's results
// itself instead of waiting for the collector thread to do it and wake it: otherwise a round
// trip crosses three threads on two CPUs and pays a third wake-up (FLOORS.md: ~50 µs each on
// the 2-core VM) even back to back. It drains every channel under m_mutex and completes what it
// finds (callbacks included) with no registration held, then registers on its call's channel
// (waiters, pins), spins, and sleeps on waiter_bell, which the worker rings directly
// (pool_worker.cpp, notify_results). Invariants, all under m_mutex:
//   - a registered waiter drains every channel after it unregisters, so a result that the
//     worker announced only to it is never left behind;
//   - the collector leaves a channel with a registered waiter alone (no race for results, no
//     third thread on the CPUs);
//   - whoever takes results from a channel with a registered waiter, or buries its worker,
//     rings waiter_bell afterwards; a waiter sleeps only if the bell still holds the value read
//     when it registered.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <sched.h>
#include <thread>
#include <vector>

#include "executors/detail/futex.hpp"
#include "executors/processes/detail/pool_core.hpp"
#include "executors/processes/detail/shm_channel.hpp"

namespace weft::detail
{
namespace
{

// A thread waiting in result() spins this long on its call's channel before it sleeps (the
// price of one cross-CPU wake-up). Never on one CPU.
const std::chrono::nanoseconds g_waiter_spin = std::thread::hardware_concurrency() > 1
                                                   ? std::chrono::microseconds(50)
                                                   : std::chrono::nanoseconds(0);

// Registered on `w` (so its mapping stays): spins about the price of a wake-up, then sleeps on
// the bell until there is something to collect or pump, or the bell moved.
void wait_registered(worker_slot& w, const future_state_base& state, std::uint32_t bell,
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

} // namespace

bool pool_core::help(const pool_call_base& call, const future_state_base& state,
                     future_state_base::deadline until) noexcept
{
    m_helpers.fetch_add(1, std::memory_order_relaxed);
    struct leave
    {
        std::atomic<int>& helpers;
        ~leave() { helpers.fetch_sub(1, std::memory_order_relaxed); }
    } guard{m_helpers};
    std::vector<pool_completion> done;
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
                // The collector is starting a replacement for a dead worker: until it is in,
                // outcomes are the collector's to deliver, as they have always been (it drains
                // every channel once it is back), so that the pool is at its size again when
                // they arrive and the dead worker's calls wait for it.
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

void pool_core::drain(std::vector<pool_completion>& done, std::vector<worker_slot*>& pinned)
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

void pool_core::ring_pinned(std::vector<worker_slot*>& pinned) noexcept
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

void pool_core::unpin(worker_slot& w)
{
    if (--w.pins == 0 && w.retired)
    {
        std::erase_if(m_retired, [&w](const auto& r) { return r.get() == &w; });
    }
}

worker_slot* pool_core::slot_of(const pool_call_base& call) const noexcept
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

} // namespace weft::detail
