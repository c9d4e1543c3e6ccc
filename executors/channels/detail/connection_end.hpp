#pragma once
// One end of a pipe, shared by the handles of it in this process: the socket, which ways it
// goes, and the turns that keep two threads' (or coroutines') messages from interleaving.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "executors/channels/detail/frame_io.hpp"
#include "runtime/task.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

class connection_end
{
  public:
    /// How often a blocked receive looks whether close() was called from another thread (the
    /// socket's SO_RCVTIMEO): the longest close() leaves such a thread waiting.
    static constexpr std::chrono::microseconds receive_check{50'000};

    using deadline = std::optional<std::chrono::steady_clock::time_point>;

    /// Takes `fd`, blocking or not: every call asks the socket not to block, and waits in poll(2)
    /// (a thread, beside the eventfd close() writes) or an io_uring poll (a coroutine).
    connection_end(uring::owned_fd fd, bool readable, bool writable);
    connection_end(const connection_end&) = delete;
    connection_end& operator=(const connection_end&) = delete;
    ~connection_end();

    /// Sends one message, blocking while the socket is full. Throws invalid_state_error when
    /// closed (also by close() from another thread while it waits) or read-only,
    /// std::invalid_argument when the message holds shared memory and the socket is not a
    /// Unix-domain one, std::system_error (EPIPE: the other end is closed).
    void send(std::string_view body, const attachments& attached);
    /// Receives one message into `into`; false when the other end is closed (end of file).
    /// Throws invalid_state_error when closed (also by close() from another thread while it
    /// waits) or write-only.
    bool receive(frame_reader& into);
    /// The same, refusing a message longer than `limit` bytes (std::runtime_error), and with
    /// a deadline: weft::timeout_error when no whole message came by `until`, which leaves
    /// the end unusable for receiving.
    bool receive(frame_reader& into, std::uint64_t limit, deadline until = std::nullopt);
    /// Whether a message (or the end of file) can be received without blocking, waiting at most
    /// until `until` (none: forever).
    bool poll(deadline until);

    /// The same, suspending the coroutine instead of the thread (io_uring poll on the socket).
    /// A blocking call and a coroutine on one end take turns as two threads do.
    task<void> async_send(std::string body, attachments attached);
    task<bool> async_receive(frame_reader& into);
    task<bool> async_receive(frame_reader& into, std::uint64_t limit);

    /// Closes the end: every handle of it in this process. A send or receive waiting in another
    /// thread or coroutine wakes and throws invalid_state_error; the socket itself is closed
    /// once the last of them has let go of it (never under a call that still uses its number).
    void close() noexcept;
    [[nodiscard]] bool closed() const noexcept;
    [[nodiscard]] bool readable() const noexcept { return m_readable; }
    [[nodiscard]] bool writable() const noexcept { return m_writable; }
    /// The socket (for sending the end to another process).
    [[nodiscard]] int fd();

  private:
    enum class way
    {
        send,
        receive,
    };
    /// Gives a way back when the call that took it ends.
    class held_way
    {
      public:
        held_way(connection_end& end, way w) noexcept : m_end(end), m_way(w) {}
        held_way(const held_way&) = delete;
        held_way& operator=(const held_way&) = delete;
        ~held_way() { m_end.give_back(m_way); }

      private:
        connection_end& m_end;
        way m_way;
    };

    /// One message at a time each way, whether a thread or a coroutine sends it: take() blocks
    /// the thread, async_take() suspends the coroutine. Both throw invalid_state_error once the
    /// end is closed; take() gives up when `until` passes first (false).
    bool take(way w, deadline until = std::nullopt);
    task<void> async_take(way w);
    void give_back(way w) noexcept;
    bool& busy(way w) noexcept { return w == way::send ? m_sending : m_receiving; }

    /// The first call in a process forked since the end was last used there makes the end this
    /// process's: the turns held by threads of the parent (which it does not have) are free
    /// again, and the lock, condition variable and close() stop source, which such a thread may
    /// have held, waited on or registered with at the fork, are new. Every call that locks
    /// m_state comes through here first, and so does the destructor.
    void adopt_after_fork() noexcept;
    /// Before a receive waits for the socket: whether nothing of a message is read yet (so that
    /// a child forked while it waits knows where the next message starts). The mark holds until
    /// a read from the socket (receive_buffer::fill) or give_back() takes it away: a receive
    /// that goes on waiting never clears it in between, where a fork would find it gone.
    void note_receive_wait(const frame_reader& reader) noexcept;

    /// Blocks until the socket reports `events` (true) or `until` passes (false). Throws
    /// invalid_state_error when close() is called meanwhile.
    bool wait(int fd, short events, deadline until);
    /// The same for a coroutine, without a deadline.
    task<void> async_wait(int fd, unsigned events);
    /// The eventfd close() writes to wake a thread in wait(); made on first need.
    int wake_fd();

    int checked_fd(bool for_reading) const;
    /// Throws std::invalid_argument when `attached` holds descriptors and the socket cannot
    /// pass them (TCP): before anything is written, so the connection stays usable.
    void check_can_carry(const attachments& attached) const;

    uring::owned_fd m_fd;    // reset by whoever lets go of the end last after close()
    receive_buffer m_buffer; // read and not yet handed out (guarded by the receive way)
    bool m_readable;
    bool m_writable;
    bool m_unix_domain;    // only a Unix-domain socket passes descriptors (SCM_RIGHTS)
    bool m_broken = false; // a receive failed in the middle of a message (the receive way)
    bool m_forked_mid_message = false; // forked while another thread was in a message

    // The fork generation this process's state is of (with `adopting` set while one thread
    // adopts it).
    std::atomic<unsigned> m_generation;

    mutable std::mutex m_state; // guards what follows
    std::condition_variable m_freed;
    bool m_sending = false;
    bool m_receiving = false;
    std::atomic<bool> m_closing{false};
    std::stop_source m_close_signal; // stops a coroutine's io_uring poll from any thread
    uring::owned_fd m_wake;
};

} // namespace weft::detail
