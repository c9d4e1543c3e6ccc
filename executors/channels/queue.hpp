#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "executors/channels/detail/queue_codec.hpp"
#include "executors/channels/detail/queue_state.hpp"
#include "executors/channels/queue_options.hpp"
#include "executors/errors.hpp"
#include "executors/interprocess/detail/robust_lock.hpp"
#include "executors/shared/detail/shared_ref.hpp"
#include "runtime/errors.hpp"
#include "runtime/task.hpp"

namespace weft
{

/// Python's multiprocessing.Queue: a multi-producer, multi-consumer FIFO of T between
/// processes. Made in one process, it reaches others by inheritance or as an argument of a
/// process target, a pool task or an initializer (every start method); copies of the handle are
/// the same queue. Items are serialized as pool task arguments are (memcpy for trivially
/// copyable T, cereal otherwise) into a ring in shared memory: items from one producer arrive
/// in the order put. An item may hold shared memory itself (a shared_value, an interprocess
/// lock, another queue): its descriptors travel beside it over the queue's socket pair, so the
/// consumer maps the same memory (Python cannot pass a Value through a Queue).
///
/// No hidden feeder thread: put() writes the item into the shared ring itself, or blocks while
/// the queue is full (maxsize items, or its buffer), so a process that put items can exit at
/// once and nobody has to drain the queue first (Python's join deadlock cannot happen).
///
/// Blocking: put/get with block = true wait (forever, or up to a timeout: then queue_full /
/// queue_empty); block = false tries once. Each has an awaitable twin (async_put, async_get)
/// that suspends the coroutine, not the loop (io_uring FUTEX_WAIT on Linux 6.7+; a retry every
/// millisecond before). qsize/empty/full are snapshots, as in Python: another process may
/// change the answer at once (don't loop on `while (!q.empty()) q.get()` with several
/// consumers: use get with a timeout, or get_nowait and queue_empty).
template <class T>
class queue
{
  public:
    /// Throws std::system_error when shared memory cannot be made, std::invalid_argument for a
    /// buffer under 64 bytes or over 1 TiB.
    explicit queue(std::size_t maxsize = 0) : queue(queue_options{.maxsize = maxsize}) {}
    explicit queue(queue_options opts)
        : m_state(make(opts)), m_carrier(detail::queue_carrier::make())
    {
    }

    /// Puts `item`, waiting while the queue is full (block = true) or throwing queue_full.
    void put(const T& item, bool block = true) { put_until(item, block ? std::nullopt : now()); }
    /// Puts `item`, waiting at most `timeout` (negative: forever); throws queue_full after it.
    template <class Rep, class Period>
    void put(const T& item, std::chrono::duration<Rep, Period> timeout)
    {
        put_until(item, detail::state_deadline(detail::deadline::after(timeout)));
    }
    void put_nowait(const T& item) { put(item, false); }

    /// Takes the oldest item, waiting while there is none (block = true) or throwing
    /// queue_empty.
    T get(bool block = true) { return get_until(block ? std::nullopt : now()); }
    /// Takes the oldest item, waiting at most `timeout`; throws queue_empty after it.
    template <class Rep, class Period>
    T get(std::chrono::duration<Rep, Period> timeout)
    {
        return get_until(detail::state_deadline(detail::deadline::after(timeout)));
    }
    T get_nowait() { return get(false); }

    /// put() for a coroutine: waits for room without blocking the loop. A stop of the task's
    /// token throws operation_cancelled (the item was not put).
    [[nodiscard]] task<void> async_put(T item);
    /// get() for a coroutine. A stop of the task's token throws operation_cancelled (nothing
    /// was taken).
    [[nodiscard]] task<T> async_get();

    /// Items queued now (a snapshot).
    [[nodiscard]] std::size_t qsize() { return static_cast<std::size_t>(m_state->size()); }
    [[nodiscard]] bool empty() { return qsize() == 0; }
    [[nodiscard]] bool full() { return m_state->full(); }
    [[nodiscard]] std::size_t maxsize() const noexcept
    {
        return static_cast<std::size_t>(m_state->maxsize());
    }

    /// This handle puts and gets no more (Python's close(): "no more data from this process");
    /// a later put or get through it throws invalid_state_error("Queue is closed"). Other
    /// handles, here and in other processes, are unaffected; what is queued stays queued.
    void close() noexcept { m_closed = true; }

    template <class Archive>
    void save(Archive& archive) const
    {
        const std::uint32_t send_end = detail::attach_fd(m_carrier->send_end.get(), m_carrier);
        const std::uint32_t receive_end =
            detail::attach_fd(m_carrier->receive_end.get(), m_carrier);
        archive(m_state, send_end, receive_end);
    }
    template <class Archive>
    void load(Archive& archive)
    {
        std::uint32_t send_end = 0;
        std::uint32_t receive_end = 0;
        archive(m_state, send_end, receive_end);
        auto carrier = std::make_shared<detail::queue_carrier>();
        carrier->send_end = detail::attached_fd(send_end);
        carrier->receive_end = detail::attached_fd(receive_end);
        m_carrier = std::move(carrier);
        m_closed = false;
    }
    /// For cereal: a handle that refers to nothing until loaded.
    explicit queue(detail::unloaded_t) noexcept {}

  protected:
    static detail::shared_ref<detail::queue_state> make(const queue_options& opts)
    {
        if (opts.buffer_bytes < 64 || opts.buffer_bytes > (std::size_t{1} << 40))
        {
            throw std::invalid_argument("weft: queue: buffer_bytes must be 64 bytes to 1 TiB");
        }
        return detail::shared_ref<detail::queue_state>::make(
            opts.buffer_bytes, static_cast<std::uint64_t>(opts.buffer_bytes),
            static_cast<std::uint64_t>(opts.maxsize));
    }

    static std::optional<std::chrono::steady_clock::time_point> now()
    {
        return std::chrono::steady_clock::now();
    }

    void require_open() const
    {
        if (m_closed)
        {
            throw invalid_state_error("weft: queue: Queue is closed");
        }
    }

    void put_until(const T& item, std::optional<std::chrono::steady_clock::time_point> until)
    {
        require_open();
        detail::attachments attached;
        const std::string message = detail::encode_queue_item(item, attached);
        if (!m_state->put(message, until, carrier_for_put(attached)))
        {
            throw queue_full();
        }
    }

    T get_until(std::optional<std::chrono::steady_clock::time_point> until)
    {
        require_open();
        std::string message;
        std::vector<uring::owned_fd> received;
        if (!m_state->get(message, until, carrier_for_get(received)))
        {
            throw queue_empty();
        }
        return detail::decode_queue_item<T>(message, std::move(received));
    }

    [[nodiscard]] detail::queue_fds
    carrier_for_put(const detail::attachments& attached) const noexcept
    {
        return {&attached, nullptr, m_carrier->send_end.get()};
    }
    [[nodiscard]] detail::queue_fds
    carrier_for_get(std::vector<uring::owned_fd>& received) const noexcept
    {
        return {nullptr, &received, m_carrier->receive_end.get()};
    }

    detail::shared_ref<detail::queue_state> m_state;
    std::shared_ptr<detail::queue_carrier> m_carrier;
    bool m_closed = false;
};

template <class T>
task<void> queue<T>::async_put(T item)
{
    require_open();
    const auto state = m_state; // the memory outlives the wait
    const auto carrier = m_carrier;
    detail::attachments attached;
    const std::string message = detail::encode_queue_item(item, attached);
    for (;;)
    {
        std::uint32_t seen = 0;
        if (state->try_put(message, seen, {&attached, nullptr, carrier->send_end.get()}))
        {
            co_return;
        }
        co_await detail::wait_for_room(*state, seen);
    }
}

template <class T>
task<T> queue<T>::async_get()
{
    require_open();
    const auto state = m_state;
    const auto carrier = m_carrier;
    std::string message;
    for (;;)
    {
        std::uint32_t seen = 0;
        std::vector<uring::owned_fd> received;
        if (state->try_get(message, seen, {nullptr, &received, carrier->receive_end.get()}))
        {
            co_return detail::decode_queue_item<T>(message, std::move(received));
        }
        co_await detail::wait_for_items(*state, seen);
    }
}

} // namespace weft
