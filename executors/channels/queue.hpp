#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

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
/// in the order put.
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
    /// buffer under 64 bytes.
    explicit queue(std::size_t maxsize = 0) : queue(queue_options{.maxsize = maxsize}) {}
    explicit queue(queue_options opts) : m_state(make(opts)) {}

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
        archive(m_state);
    }
    template <class Archive>
    void load(Archive& archive)
    {
        archive(m_state);
        m_closed = false;
    }
    /// For cereal: a handle that refers to nothing until loaded.
    explicit queue(detail::unloaded_t) noexcept {}

  protected:
    static detail::shared_ref<detail::queue_state> make(const queue_options& opts)
    {
        if (opts.buffer_bytes < 64)
        {
            throw std::invalid_argument("weft: queue: buffer_bytes must be at least 64");
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
        const std::string message = detail::encode_queue_item(item);
        if (!m_state->put(message, until))
        {
            throw queue_full();
        }
    }

    T get_until(std::optional<std::chrono::steady_clock::time_point> until)
    {
        require_open();
        std::string message;
        if (!m_state->get(message, until))
        {
            throw queue_empty();
        }
        return detail::decode_queue_item<T>(message);
    }

    detail::shared_ref<detail::queue_state> m_state;
    bool m_closed = false;
};

template <class T>
task<void> queue<T>::async_put(T item)
{
    require_open();
    const auto state = m_state; // the memory outlives the wait
    const std::string message = detail::encode_queue_item(item);
    for (;;)
    {
        std::uint32_t seen = 0;
        if (state->try_put(message, seen))
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
    std::string message;
    for (;;)
    {
        std::uint32_t seen = 0;
        if (state->try_get(message, seen))
        {
            co_return detail::decode_queue_item<T>(message);
        }
        co_await detail::wait_for_items(*state, seen);
    }
}

} // namespace weft
