#pragma once
// The state behind weft::queue, simple_queue and joinable_queue: a ring of length-prefixed
// messages in shared memory, one robust mutex for the putters and one for the getters, with
// shared futex words for the sleepers on either side. The ring's bytes follow the struct in
// the same segment.
//
// No feeder thread (Python's Queue has one, and a process then cannot exit before its items
// are read: SEMANTICS.md 3.10): put() copies the message into the ring itself, or blocks,
// visibly, while the queue is full. What is in the ring belongs to the queue, not to the
// process that put it: a producer may exit at once.
//
// Memory: standard layout, no pointers; works at any address in any number of mappings.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "executors/interprocess/detail/robust_mutex_state.hpp"
#include "executors/shared/detail/attachments.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

/// Where the descriptors that items carry (shared memory in them) travel: a SOCK_SEQPACKET
/// socket pair of the queue's, sent on under the put mutex and received from under the get
/// mutex, so that they stay in the order of the items.
struct queue_fds
{
    const attachments* attached = nullptr;            // put: what the item refers to
    std::vector<uring::owned_fd>* received = nullptr; // get: the item's descriptors
    int socket = -1;
};

struct queue_state
{
    using clock = std::chrono::steady_clock;
    using deadline = std::optional<clock::time_point>;

    /// A ring of `ring_bytes` bytes (what follows this struct in its segment) holding at most
    /// `maxsize` items (0: as many as fit).
    queue_state(std::uint64_t ring_bytes, std::uint64_t maxsize);
    queue_state(const queue_state&) = delete;
    queue_state& operator=(const queue_state&) = delete;

    /// Appends one message, sleeping while the queue is full until `until` (none: forever;
    /// passed: try once). False when it stayed full. Throws std::length_error when the message
    /// can never fit the ring.
    bool put(std::string_view message, deadline until, queue_fds fds = {});
    /// Takes the oldest message into `out`, sleeping while the queue is empty until `until`.
    /// False when it stayed empty.
    bool get(std::string& out, deadline until, queue_fds fds = {});

    /// Items in the queue now (a snapshot), and whether it is full.
    [[nodiscard]] std::uint64_t size();
    [[nodiscard]] bool full();
    [[nodiscard]] std::uint64_t maxsize() const noexcept { return m_maxsize; }

    /// joinable_queue: one put item is done. Throws invalid_state_error when more were marked
    /// done than were put.
    void task_done();
    /// Sleeps until every item put has been marked done, or `until`; false on timeout.
    bool join(deadline until);

    /// For the awaitable forms: the words that change when an item arrives, when room is made,
    /// and when the last item is marked done.
    [[nodiscard]] std::atomic<std::uint32_t>& items_word() noexcept { return m_items_seq; }
    [[nodiscard]] std::atomic<std::uint32_t>& room_word() noexcept { return m_room_seq; }
    [[nodiscard]] std::atomic<std::uint32_t>& done_word() noexcept { return m_done_seq; }
    /// The items and room words count changes in steps of 2; bit 0 says that someone sleeps
    /// on the word's present value. A sleeper sets it in the value it read before its last
    /// look at the queue, and the change that ends that value clears it in the same atomic
    /// step and then wakes every sleeper. So the sleepers a waker wakes are exactly those who
    /// slept on the value it ended: a separate flag could be claimed by a waker whose change
    /// the sleeper had already seen, and the change it had not seen then woke nobody.
    static constexpr std::uint32_t sleeper_bit = 1;
    /// Sets the sleeper bit in `word` while it still holds `seen` (bit clear). False when the
    /// word moved on (look again instead of sleeping); else sleep while it holds
    /// `seen | sleeper_bit`.
    static bool mark_sleeper(std::atomic<std::uint32_t>& word, std::uint32_t seen) noexcept
    {
        std::uint32_t now = seen;
        return word.compare_exchange_strong(now, seen | sleeper_bit, std::memory_order_seq_cst,
                                            std::memory_order_seq_cst) ||
               now == (seen | sleeper_bit);
    }
    /// One try of put/get: when it returns false, `seen` holds the value (sleeper bit clear)
    /// that the room or items word had before the try looked at the ring.
    bool try_put(std::string_view message, std::uint32_t& seen, queue_fds fds = {});
    bool try_get(std::string& out, std::uint32_t& seen, queue_fds fds = {});
    /// Whether every put item is done (join's condition); `seen` as for try_get.
    bool all_done(std::uint32_t& seen);

    /// How often a sleeper without a deadline looks for a process that died holding a side's
    /// mutex: one killed after its stores but before its wake-up leaves the other side asleep,
    /// and one killed between its two stores leaves the counts one off, until somebody takes
    /// that mutex (normally the next putter or getter, who may never come).
    /// 100 ms unless set otherwise.
    [[nodiscard]] static std::chrono::milliseconds dead_holder_check() noexcept;
    /// For tests that look for lost wake-ups (queue_wakeup_test): the check's slices would hide
    /// one as a stall instead of a hang. Process-wide; a forked child inherits it.
    static void set_dead_holder_check(std::chrono::milliseconds every) noexcept;
    /// When a process died holding either side's mutex (its futex word says so), takes the
    /// mutex over: completes what the dead holder was publishing and wakes both sides. A load
    /// of each word when nobody died; never waits for a live holder. True when it took one over.
    bool take_over_dead_holders();

  private:
    class held;
    friend struct queue_state_probe; // tests: a holder that dies at a chosen store
    // What an operation is about to publish: the next holder of the side's mutex completes it
    // when the holder died between its two stores (position and count). Atomics: the holder
    // may be killed between any two stores, and the next holder reads what was stored (count
    // first, then position with release; position 0 clears it).
    struct journal
    {
        std::atomic<std::uint64_t> position{0}; // 0: nothing pending (moved positions are > 0)
        std::atomic<std::uint64_t> count{0};

        void record(std::uint64_t new_position, std::uint64_t new_count) noexcept
        {
            count.store(new_count, std::memory_order_relaxed);
            position.store(new_position, std::memory_order_release);
        }
        void clear() noexcept { position.store(0, std::memory_order_release); }
    };

    [[nodiscard]] std::byte* ring() noexcept
    {
        return reinterpret_cast<std::byte*>(this) + sizeof(queue_state);
    }
    /// Copy n bytes to or from ring offset `offset`, wrapping; return the offset after them.
    std::uint64_t copy_in(std::uint64_t offset, const void* from, std::uint64_t n) noexcept;
    std::uint64_t copy_out(std::uint64_t offset, void* to, std::uint64_t n) noexcept;
    /// Ends the word's present value (clearing the sleeper bit); true when someone sleeps on
    /// it, to be woken.
    static bool bump(std::atomic<std::uint32_t>& word) noexcept;
    /// After a holder of the side's mutex died: completes its publication. True when it did.
    static bool recover(journal& pending, const std::atomic<std::uint64_t>& position,
                        std::atomic<std::uint64_t>& count) noexcept;
    /// Under the side's mutex, taken from a holder that died: recover() and the wake-ups that
    /// the holder may not have made.
    void repair_put_side() noexcept;
    void repair_get_side() noexcept;
    /// Sleeps on the items or room word while it holds `seen`, until `until` but no longer
    /// than dead_holder_check (then takes over dead holders). False once `until` passed.
    bool sleep_on(std::atomic<std::uint32_t>& word, std::uint32_t seen, const deadline& until);

    // Two mutexes, one per side, each with what its side writes on cache lines of its own:
    // a putter and a getter work at once and pass each other only the positions, the counts
    // and the words (one mutex for both made every operation move the mutex between the two
    // processes). Counts and positions only grow; each is stored by its own side under its
    // mutex and read by anyone (acquire).
    std::uint64_t m_capacity;
    std::uint64_t m_maxsize;

    alignas(64) robust_mutex_state m_put_mutex;
    std::atomic<std::uint64_t> m_tail{0};      // byte position after the newest record
    std::atomic<std::uint64_t> m_puts{0};      // items put
    std::atomic<std::uint32_t> m_items_seq{0}; // bumped by every put; bit 0: getters sleep
    std::uint64_t m_last_ticket = 0;           // of the last item that carried descriptors
    journal m_put_journal;

    alignas(64) robust_mutex_state m_get_mutex;
    std::atomic<std::uint64_t> m_head{0};     // byte position of the oldest record
    std::atomic<std::uint64_t> m_gets{0};     // items taken
    std::atomic<std::uint32_t> m_room_seq{0}; // bumped by every get; bit 0: putters sleep
    journal m_get_journal;

    alignas(64) std::atomic<std::uint64_t> m_done{0}; // joinable_queue: task_done calls
    std::atomic<std::uint32_t> m_done_seq{0};         // bumped when every put item is done
};

static_assert(std::is_standard_layout_v<queue_state>);

} // namespace weft::detail
