#pragma once
// The state behind weft::interprocess::condition: Python's Condition across processes, with
// exact notify(n) (notify(2) wakes exactly two waiters) in arrival order.
//
// Every waiter takes a slot of a fixed array for the length of its wait and sleeps on that
// slot's own futex word; notify(n) picks the n oldest waiting slots, marks each notified and
// wakes it. A notification is a mark on one slot, so it cannot be taken by a later waiter or
// lost by a waiter that times out: that one finds the mark when it has the lock back and
// reports that it was notified.
//
// Locking: the caller must hold the condition's user lock for wait() and notify(); it guards
// every field here except the slots' futex words (atomics, read by sleepers without the lock).
// The public class checks that the caller holds it, as Python does.
//
// Dead waiters: each waiter holds its slot's robust mutex for the whole wait, so when a waiter
// dies (SIGKILL, exit) the kernel marks that mutex's word owner-died at once. notify() skips
// and frees such slots, so a killed waiter does not absorb a notification. (kill(pid, 0) would
// not do: a killed but unreaped waiter is a zombie, which kill() still finds, and pids are
// reused.)
//
// Memory: standard layout, no pointers, works at any address in any number of mappings and
// processes. The creator placement-constructs it once; no destructor needs to run.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>

#include "executors/interprocess/detail/robust_mutex_state.hpp"

namespace weft::detail
{

struct condition_state
{
    using clock = std::chrono::steady_clock;

    /// Waiters beyond this many at once get invalid_state_error("too many waiters").
    static constexpr std::uint32_t max_waiters = 256;

    condition_state();
    condition_state(const condition_state&) = delete;
    condition_state& operator=(const condition_state&) = delete;

    /// Releases `lock`, sleeps until notified or until `deadline` (none: forever), re-acquires
    /// `lock`; returns whether this waiter was notified (false: timed out). The caller holds
    /// the lock on entry, and holds it again on return, or on an exception from restore().
    ///
    /// `Lock` is the user lock seen from here:
    ///   Saved lock.release_all()     releases it fully (an rlock whatever its count) and
    ///                                returns what restore needs
    ///   void lock.restore(Saved)     re-acquires it and restores that
    ///
    /// Throws weft::invalid_state_error("too many waiters") when all slots are taken, and
    /// whatever `lock` throws (having released nothing when release_all() threw).
    template <class Lock>
    bool wait(Lock& lock, std::optional<clock::time_point> deadline)
    {
        const std::uint32_t index = enter();
        decltype(lock.release_all()) saved;
        try
        {
            saved = lock.release_all();
        }
        catch (...)
        {
            (void)leave(index);
            throw;
        }
        sleep(index, deadline);
        try
        {
            lock.restore(saved);
        }
        catch (...)
        {
            // The lock is not ours, so the slot cannot be freed here: let go of its liveness
            // mutex, and the next notify() frees it as a dead waiter's.
            abandon(index);
            throw;
        }
        return leave(index);
    }

    /// Wakes up to `n` waiters, oldest first (fewer when fewer wait). The caller holds the
    /// user lock.
    void notify(std::size_t n = 1);
    /// Wakes every current waiter. The caller holds the user lock.
    void notify_all();

    // ---- The awaitable wait, in steps (the coroutine sleeps on the slot's word) -----------
    /// Takes a slot (user lock held); the coroutine then releases the lock, sleeps while
    /// waiter_word(slot) is 0, re-takes the lock and calls leave_waiter(slot) (or, when it
    /// cannot re-take it, abandon_waiter). All on one thread: the slot's liveness mutex is
    /// that thread's.
    std::uint32_t enter_waiter() { return enter(); }
    [[nodiscard]] std::atomic<std::uint32_t>& waiter_word(std::uint32_t slot) noexcept
    {
        return m_slots[slot].word;
    }
    bool leave_waiter(std::uint32_t slot) noexcept { return leave(slot); }
    void abandon_waiter(std::uint32_t slot) noexcept { abandon(slot); }

    /// Waiters not yet notified (the caller holds the user lock).
    [[nodiscard]] std::uint32_t n_waiting() const noexcept;

  private:
    struct slot
    {
        slot() : alive(false) {}

        std::atomic<std::uint32_t> word{0}; // 0 waiting, 1 notified; the waiter's futex word
        std::uint32_t in_use = 0;           // 1 from enter() to leave()
        std::uint64_t ticket = 0;           // arrival order
        robust_mutex_state alive;           // held by the waiter while in_use
    };

    /// Takes a free slot for the calling thread; throws when none is free.
    std::uint32_t enter();
    /// Sleeps on the slot until notified or `deadline`.
    void sleep(std::uint32_t index, std::optional<clock::time_point> deadline) noexcept;
    /// Frees the slot (user lock held); returns whether it was notified.
    bool leave(std::uint32_t index) noexcept;
    /// Lets go of the slot without the user lock (see wait()).
    void abandon(std::uint32_t index) noexcept;
    /// True when the waiter in the slot has died.
    [[nodiscard]] bool waiter_died(const slot& s) const noexcept;

    std::uint64_t m_next_ticket = 0;
    std::uint32_t m_in_use = 0; // slots taken, dead waiters' included
    slot m_slots[max_waiters];
};

static_assert(std::is_standard_layout_v<condition_state>);

} // namespace weft::detail
