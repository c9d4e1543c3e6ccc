#pragma once
// The state behind weft::interprocess::barrier: Python's Barrier across processes, the same
// state machine as weft::barrier (executors/threads/barrier.cpp), with a robust mutex for its
// std::mutex and a generation futex word for its condition variable.
//
// Dead processes: a process that dies holding the internal mutex (inside a barrier operation)
// is reported by the mutex as owner-died; the barrier then breaks, since its counts may be
// half-updated: waiters throw broken_barrier_error until reset(). A process that dies while
// waiting, or while running the action, is not detected (it is still counted, as with
// Python's multiprocessing.Barrier); waiters with a timeout break the barrier when it passes.
//
// Memory: standard layout, no pointers, works at any address in any number of mappings and
// processes. The creator placement-constructs it once; no destructor needs to run.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>

#include "executors/interprocess/detail/robust_mutex_state.hpp"

namespace weft::detail
{

struct barrier_state
{
    using clock = std::chrono::steady_clock;

    /// A barrier for `parties` waiters (at least 1: the public side rejects fewer).
    explicit barrier_state(std::uint32_t parties);
    barrier_state(const barrier_state&) = delete;
    barrier_state& operator=(const barrier_state&) = delete;

    /// Blocks until `parties` waiters wait, or `deadline` passes (none: forever); returns the
    /// arrival index, 0 for the first and parties - 1 for the last. The last one runs
    /// `action()` (if it is not an empty callable), without the internal mutex held, before
    /// anyone is released. Throws weft::broken_barrier_error when the barrier is or becomes
    /// broken (a timeout breaks it), and the action's exception in the waiter that ran it
    /// (which also breaks the barrier).
    template <class Action>
    std::uint32_t wait(std::optional<clock::time_point> deadline, Action&& action)
    {
        auto* target = std::addressof(action);
        using target_type = std::remove_reference_t<Action>;
        void (*run)(void*) = [](void* p) { (*static_cast<target_type*>(p))(); };
        if constexpr (requires { static_cast<bool>(action); })
        {
            if (!static_cast<bool>(action))
            {
                run = nullptr;
            }
        }
        return wait_until(deadline, run, const_cast<void*>(static_cast<const void*>(target)));
    }

    /// wait() without an action.
    std::uint32_t wait(std::optional<clock::time_point> deadline)
    {
        return wait_until(deadline, nullptr, nullptr);
    }

    /// Returns the barrier to its empty, unbroken state; waiters inside throw
    /// broken_barrier_error.
    void reset();
    /// Breaks the barrier: current and later waiters throw broken_barrier_error until reset().
    void abort();

    [[nodiscard]] bool broken();
    /// Waiters blocked in wait() for the current round.
    [[nodiscard]] std::uint32_t n_waiting();
    [[nodiscard]] std::uint32_t parties() const noexcept { return m_parties; }

    // ---- The awaitable wait, in steps (each takes the internal mutex briefly) -------------
    /// What an arrival came to: `entered` false means a previous round is still draining
    /// (sleep on generation() while it reads `seen`, then arrive again). Otherwise `index` is
    /// this waiter's; `last` means it must run the action and call trip_done().
    struct arrival
    {
        bool entered = false;
        bool last = false;
        std::uint32_t index = 0;
        std::uint32_t seen = 0;
    };
    /// Throws broken_barrier_error when broken.
    arrival arrive();
    /// The last arriver, after the action (ok = false: it threw, the barrier breaks). Throws
    /// broken_barrier_error when the barrier was aborted or reset meanwhile. Leaves.
    void trip_done(bool ok);
    enum class progress
    {
        waiting,  // sleep on generation() while it reads `seen`, then end_sleep() and ask again
        released, // the round tripped: leave() done, return the index
    };
    /// For the others: released, or waiting (counted as a sleeper until end_sleep()). Throws
    /// broken_barrier_error when broken (having left).
    progress poll_release(std::uint32_t& seen);
    void end_sleep();
    /// A waiter that gives up (its coroutine was cancelled): breaks the barrier, as a timeout
    /// does, and leaves.
    void give_up() noexcept;
    [[nodiscard]] std::atomic<std::uint32_t>& generation() noexcept { return m_generation; }

  private:
    // weft::barrier's phases.
    enum class phase : std::uint32_t
    {
        filling,   // accepting arrivals
        tripping,  // all arrived; the action runs
        draining,  // released; the last one out re-opens it
        resetting, // reset() with waiters inside; the last one out re-opens it
        broken,
    };

    class held;

    std::uint32_t wait_until(std::optional<clock::time_point> deadline, void (*run)(void*),
                             void* action);
    /// Sleeps (mutex released) until the phase changes or `deadline`; false once it passed.
    bool wait_change(held& h, std::optional<clock::time_point> deadline);
    void changed() noexcept;
    void leave() noexcept;
    void break_barrier() noexcept;

    robust_mutex_state m_mutex;              // guards everything below but m_generation
    std::atomic<std::uint32_t> m_generation; // bumped on every phase change; the futex word
    std::uint32_t m_sleepers = 0;            // waiters asleep on m_generation
    phase m_phase = phase::filling;
    std::uint32_t m_count = 0; // waiters inside wait()
    std::uint32_t m_parties;
};

static_assert(std::is_standard_layout_v<barrier_state>);

} // namespace weft::detail
