#pragma once

#include "executors/channels/queue.hpp"

namespace weft
{

/// Python's multiprocessing.SimpleQueue: an unbounded queue<T> with only put, get, empty and
/// close (and the awaitable async_put/async_get).
template <class T>
class simple_queue
{
  public:
    /// Throws std::system_error when shared memory cannot be made.
    explicit simple_queue(std::size_t buffer_bytes = std::size_t{1} << 20)
        : m_queue(queue_options{.maxsize = 0, .buffer_bytes = buffer_bytes})
    {
    }

    /// Puts `item`, waiting while the buffer is full.
    void put(const T& item) { m_queue.put(item); }
    /// Takes the oldest item, waiting while there is none.
    T get() { return m_queue.get(); }
    [[nodiscard]] bool empty() { return m_queue.empty(); }
    void close() noexcept { m_queue.close(); }
    [[nodiscard]] task<void> async_put(T item) { return m_queue.async_put(std::move(item)); }
    [[nodiscard]] task<T> async_get() { return m_queue.async_get(); }

    template <class Archive>
    void save(Archive& archive) const
    {
        archive(m_queue);
    }
    template <class Archive>
    void load(Archive& archive)
    {
        archive(m_queue);
    }
    /// For cereal: a handle that refers to nothing until loaded.
    explicit simple_queue(detail::unloaded_t tag) noexcept : m_queue(tag) {}

  private:
    queue<T> m_queue;
};

} // namespace weft
