#pragma once
// The chunks a process pool's map has submitted and not yet yielded, with the calls and message
// bytes they hold: the map's window is measured in them, and its refills wait until enough of
// them were taken.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <utility>
#include <vector>

#include "executors/processes/detail/map_window.hpp"

namespace weft::detail
{

/// `Future`: a chunk's future of its values.
template <class Future>
class chunks_in_flight
{
    struct chunk
    {
        std::uint64_t number;
        Future values;
        std::size_t items;
        std::size_t bytes;
    };

  public:
    [[nodiscard]] bool empty() const noexcept { return m_chunks.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return m_chunks.size(); }

    [[nodiscard]] bool has_room(const map_window& window) const noexcept
    {
        if (window.chunks != 0)
        {
            return m_chunks.size() < window.chunks;
        }
        return m_chunks.size() < std::max<std::size_t>(window.min_chunks, 1) ||
               (m_chunks.size() < window.max_chunks && m_items < window.items &&
                m_bytes < window.bytes);
    }

    /// Whether, since the last mark_filled(), half the chunks then in flight or `bytes` of
    /// messages were taken out (or dropped).
    [[nodiscard]] bool freed_a_batch(std::size_t bytes) const noexcept
    {
        return m_freed_bytes >= bytes || 2 * m_freed_chunks >= m_filled;
    }
    void mark_filled() noexcept
    {
        m_filled = m_chunks.size();
        m_freed_chunks = 0;
        m_freed_bytes = 0;
    }

    void add(std::uint64_t number, Future values, std::size_t items, std::size_t bytes)
    {
        m_chunks.push_back(chunk{number, std::move(values), items, bytes});
        m_items += items;
        m_bytes += bytes;
    }

    /// The oldest chunk's future, left in place (there must be one).
    [[nodiscard]] const Future& oldest() const { return m_chunks.front().values; }

    Future take_oldest()
    {
        Future next = std::move(m_chunks.front().values);
        forget(m_chunks.front());
        m_chunks.pop_front();
        return next;
    }

    /// The chunk numbered `number`, which must be here.
    Future take(std::uint64_t number)
    {
        for (auto it = m_chunks.begin(); it != m_chunks.end(); ++it)
        {
            if (it->number == number)
            {
                Future next = std::move(it->values);
                forget(*it);
                m_chunks.erase(it);
                return next;
            }
        }
        std::terminate(); // every finished number is one of ours, taken once
    }

    /// Forgets the newest chunk without cancelling it (the pool never had it).
    void drop_newest() noexcept
    {
        forget(m_chunks.back());
        m_chunks.pop_back();
    }

    /// Every chunk's future, oldest first; none are left.
    std::vector<Future> take_all()
    {
        std::vector<Future> all;
        all.reserve(m_chunks.size());
        for (auto& chunk : m_chunks)
        {
            all.push_back(std::move(chunk.values));
        }
        m_chunks.clear();
        return all;
    }

    /// Cancels the chunks that have not started, and forgets them all.
    void cancel_all() noexcept
    {
        for (auto& chunk : m_chunks)
        {
            try
            {
                chunk.values.cancel();
            }
            catch (...)
            {
            }
        }
        m_chunks.clear();
        m_items = 0;
        m_bytes = 0;
    }

  private:
    void forget(const chunk& taken) noexcept
    {
        m_items -= taken.items;
        m_bytes -= taken.bytes;
        ++m_freed_chunks;
        m_freed_bytes += taken.bytes;
    }

    std::deque<chunk> m_chunks;
    std::size_t m_items = 0;        // calls in flight
    std::size_t m_bytes = 0;        // and their message bytes
    std::size_t m_filled = 0;       // chunks in flight at the last mark_filled()
    std::size_t m_freed_chunks = 0; // taken since then
    std::size_t m_freed_bytes = 0;  // and their message bytes
};

} // namespace weft::detail
