#pragma once
// The lazy result range of a process pool's map, imap and imap_unordered: pulls inputs a chunk
// at a time, at most a window of chunks ahead of the consumer, ships each chunk as one message
// and yields the values one by one, in input order or in the order chunks finish.

#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "executors/detail/future_state.hpp"
#include "executors/detail/input_cursor.hpp"
#include "executors/future.hpp"
#include "executors/processes/detail/chunks_in_flight.hpp"
#include "executors/processes/detail/encode_chunk.hpp"
#include "executors/processes/detail/finish_order.hpp"
#include "executors/processes/detail/map_style.hpp"
#include "executors/processes/detail/map_window.hpp"
#include "executors/processes/detail/message_bytes.hpp"
#include "executors/processes/detail/pool_task.hpp"
#include "runtime/errors.hpp"

namespace weft::detail
{

/// Chunk messages a chunked map builds before it hands them to the pool together.
inline constexpr std::size_t g_refill_bytes = 16 * 1024;

/// What a chunked map needs from its pool: `begin(message)` writes the head of a chunk message
/// (the target's code), `encode(archive, elements...)` appends one call's arguments (or, when
/// `raw_arguments`, `put(to, elements...)` writes its `record` bytes), `submit(std::move(message),
/// count, first_item)` makes the call of a finished chunk of `count` calls whose first is the
/// input's item `first_item` (from 0) and returns the future of its values, and `ship()` hands
/// the calls made since the last ship to the pool (`drop_batch()` forgets them when it throws).
template <class Ops, class... Rs>
class chunked_map_range
{
    using chunk_future = std::invoke_result_t<decltype(&Ops::submit), Ops&, message_bytes&&,
                                              std::uint32_t, std::uint64_t>;
    using chunk_values = std::remove_cvref_t<decltype(std::declval<chunk_future>().result())>;
    using element = typename chunk_values::value_type;

  public:
    class iterator
    {
      public:
        using value_type = element;
        using difference_type = std::ptrdiff_t;

        iterator() = default;
        /// Rethrows the chunk's exception at a failed chunk's position (map_style::keep_going).
        element& operator*() const
        {
            if (m_range->m_current_error)
            {
                std::rethrow_exception(m_range->m_current_error);
            }
            return *m_range->m_current;
        }
        element* operator->() const { return &**this; }
        iterator& operator++()
        {
            m_range->advance();
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept
        {
            return it.at_end();
        }

      private:
        [[nodiscard]] bool at_end() const noexcept
        {
            return m_range == nullptr ||
                   (!m_range->m_current.has_value() && !m_range->m_current_error);
        }
        friend class chunked_map_range;
        explicit iterator(chunked_map_range* range) : m_range(range) {}
        chunked_map_range* m_range = nullptr;
    };

    /// Submits the first window of chunks at once, as Python's map starts its calls.
    /// `deadline`: when advancing throws timeout_error; input order only (Executor.map's
    /// timeout; imap_unordered has none, as Python's).
    template <class... Inputs>
    chunked_map_range(Ops ops, map_style style, std::size_t chunksize, map_window window,
                      std::optional<std::chrono::steady_clock::time_point> deadline,
                      Inputs&&... inputs)
        : m_ops(std::move(ops)), m_order(style.order), m_keep_going(style.keep_going),
          m_chunksize(chunksize), m_window(window), m_deadline(deadline),
          m_inputs(std::forward<Inputs>(inputs)...)
    {
        assert(!deadline || style.order == map_order::inputs);
        refill();
        if (m_in_flight.empty() && m_submit_error)
        {
            std::rethrow_exception(m_submit_error); // nothing submitted: fail at the call
        }
    }
    chunked_map_range(const chunked_map_range&) = delete;
    chunked_map_range& operator=(const chunked_map_range&) = delete;
    /// Cancels the chunks that have not started (Python's close() of the result iterator).
    ~chunked_map_range() { cancel_pending(); }

    /// Waits for the first value; rethrows a call's exception or timeout_error (keep_going: the
    /// first position's dereference rethrows a failed chunk's).
    iterator begin()
    {
        if (m_read_by_next)
        {
            throw invalid_state_error("weft: a map range read with next() cannot be iterated");
        }
        if (!m_started)
        {
            m_started = true;
            advance();
        }
        return iterator(this);
    }
    std::default_sentinel_t end() const noexcept { return {}; }

    /// Python's IMapIterator.next(timeout): the next value, or nullopt after the last. Throws
    /// timeout_error when the next value is not ready within `timeout`, and the range stays where
    /// it was, so a later next() returns that value. A call's exception is rethrown as advancing
    /// would (imap: that chunk's position is then behind, and next() goes on after it). A range
    /// is read either with next() or by iterating: mixing them throws invalid_state_error.
    template <class Rep, class Period>
    std::optional<element> next(std::chrono::duration<Rep, Period> timeout)
    {
        require_read_by_next();
        if (!next_ready_by(deadline_after(timeout)))
        {
            throw timeout_error("weft: map result not ready before the timeout");
        }
        return take_value();
    }
    /// next() without a timeout: waits as long as the value takes.
    std::optional<element> next()
    {
        require_read_by_next();
        return take_value();
    }

    /// For the blocking maps: appends every value not yet yielded to `out`, a chunk at a time
    /// (no per-value step); rethrows as advancing would.
    void append_all(chunk_values& out)
    {
        m_started = true;
        m_current.reset();
        if (m_failed)
        {
            return;
        }
        do
        {
            // The first chunk's storage becomes the result, unless the caller reserved more.
            if (out.empty() && m_at == 0 && out.capacity() < m_chunk.size())
            {
                out.swap(m_chunk);
            }
            else
            {
                out.insert(out.end(), std::make_move_iterator(m_chunk.begin() + m_at),
                           std::make_move_iterator(m_chunk.end()));
            }
            m_chunk.clear();
            m_at = 0;
        } while (take_chunk());
    }

    /// For map_async: submits every remaining chunk now and hands over their futures, in input
    /// order; the range yields nothing afterwards. Rethrows a refused submit.
    std::vector<chunk_future> submit_all()
    {
        m_window = map_window{.chunks = static_cast<std::size_t>(-1)};
        refill(true);
        m_failed = true;
        if (m_submit_error)
        {
            cancel_pending();
            std::rethrow_exception(m_submit_error);
        }
        return m_in_flight.take_all();
    }

  private:
    // Builds chunks until the window is full or the inputs end, and ships them to the pool in
    // batches. Once the window has been filled, it waits until a batch's worth of it is free
    // (half the window, or g_refill_bytes of messages) unless `now` or nothing is in flight: a
    // chunk of a few calls then no longer costs the pool a lock and each idle worker a
    // wake-up of its own.
    void refill(bool now = false)
    {
        if (!now && !m_in_flight.empty() && !m_in_flight.freed_a_batch(g_refill_bytes))
        {
            return;
        }
        std::size_t unshipped = 0;
        std::size_t unshipped_bytes = 0;
        while (!m_exhausted && m_in_flight.has_room(m_window))
        {
            try
            {
                message_bytes message;
                const std::uint32_t count = encode_chunk(m_ops, message, m_inputs, m_chunksize);
                if (count == 0)
                {
                    m_exhausted = true;
                    break;
                }
                const std::size_t bytes = message.size();
                chunk_future values = m_ops.submit(std::move(message), count, m_items_read);
                m_items_read += count;
                const std::uint64_t number = m_next_number++;
                if (m_order == map_order::completion)
                {
                    values.add_done_callback([order = m_finish_order, number](const auto&)
                                             { order->finished(number); });
                }
                m_in_flight.add(number, std::move(values), count, bytes);
                ++unshipped;
                unshipped_bytes += bytes;
                // The first chunks go at once (workers start while the rest is encoded), the
                // others a batch at a time.
                if (unshipped_bytes >= g_refill_bytes || m_next_number <= 2)
                {
                    ship(unshipped);
                    unshipped = 0;
                    unshipped_bytes = 0;
                }
            }
            catch (...)
            {
                // A throwing input: the values before it still come out, then this error.
                m_submit_error = std::current_exception();
                m_exhausted = true;
            }
        }
        ship(unshipped);
        m_in_flight.mark_filled();
    }

    // Hands the last `unshipped` chunks of m_in_flight to the pool. A refused batch (the pool
    // shut down or broke) leaves the range: the values before it still come out, then this
    // error, which comes before any later input's.
    void ship(std::size_t unshipped) noexcept
    {
        if (unshipped == 0)
        {
            return;
        }
        try
        {
            m_ops.ship();
        }
        catch (...)
        {
            m_ops.drop_batch();
            for (std::size_t i = 0; i < unshipped; ++i)
            {
                m_in_flight.drop_newest();
            }
            m_submit_error = std::current_exception();
            m_exhausted = true;
        }
    }

    void require_read_by_next()
    {
        if (m_started && !m_read_by_next)
        {
            throw invalid_state_error(
                "weft: a map range being iterated cannot be read with next()");
        }
        m_started = true;
        m_read_by_next = true;
    }

    // Whether the next value can be had without waiting past `until`: true at the end of the
    // inputs too, or when what comes next is an error.
    bool next_ready_by(std::chrono::steady_clock::time_point until)
    {
        if (m_failed || m_at < m_chunk.size())
        {
            return true;
        }
        refill();
        if (m_in_flight.empty())
        {
            return true;
        }
        if (m_order == map_order::inputs)
        {
            return m_in_flight.oldest().wait_for(until - std::chrono::steady_clock::now());
        }
        return m_finish_order->wait_for_one(until);
    }

    std::optional<element> take_value()
    {
        advance();
        if (m_current_error)
        {
            std::exception_ptr error = std::exchange(m_current_error, nullptr);
            std::rethrow_exception(error);
        }
        std::optional<element> value = std::move(m_current);
        m_current.reset();
        return value;
    }

    void advance()
    {
        m_current.reset();
        m_current_error = nullptr;
        if (m_failed)
        {
            return;
        }
        if (m_at == m_chunk.size())
        {
            if (!m_keep_going)
            {
                if (!take_chunk())
                {
                    return;
                }
            }
            else
            {
                try
                {
                    if (!take_chunk())
                    {
                        return;
                    }
                }
                catch (...)
                {
                    m_current_error = std::current_exception(); // the failed chunk's position
                    return;
                }
            }
        }
        m_current.emplace(std::move(m_chunk[m_at++]));
    }

    // Waits for the next chunk's values into m_chunk; false at the end of the inputs.
    bool take_chunk()
    {
        refill();
        if (m_in_flight.empty())
        {
            if (m_submit_error)
            {
                m_failed = true;
                std::rethrow_exception(m_submit_error);
            }
            return false;
        }
        chunk_future next = take_next();
        bool timed_out = false;
        try
        {
            if (m_deadline && !next.wait_for(*m_deadline - std::chrono::steady_clock::now()))
            {
                timed_out = true;
                throw timeout_error("weft: map result not ready before the timeout");
            }
            m_chunk = std::move(next).result();
        }
        catch (...)
        {
            if (m_keep_going && !timed_out)
            {
                // As Python's Pool.imap: this chunk failed, the next ones still come.
                m_chunk.clear();
                m_at = 0;
                throw;
            }
            // As Python's Executor.map: a timeout or an error ends the iteration, and what has
            // not started is cancelled.
            m_failed = true;
            try
            {
                next.cancel();
            }
            catch (...)
            {
            }
            cancel_pending();
            throw;
        }
        m_at = 0;
        refill(); // the chunk just taken made room in the window
        return true;
    }

    // The next chunk to yield: the oldest, or the first to finish.
    chunk_future take_next()
    {
        if (m_order == map_order::inputs)
        {
            return m_in_flight.take_oldest();
        }
        return m_in_flight.take(m_finish_order->take_next());
    }

    void cancel_pending() noexcept { m_in_flight.cancel_all(); }

    Ops m_ops;
    map_order m_order;
    bool m_keep_going;
    std::size_t m_chunksize;
    map_window m_window;
    std::optional<std::chrono::steady_clock::time_point> m_deadline;
    input_cursor<Rs...> m_inputs;
    chunks_in_flight<chunk_future> m_in_flight;
    std::shared_ptr<finish_order> m_finish_order = std::make_shared<finish_order>();
    std::uint64_t m_next_number = 0;
    chunk_values m_chunk;
    std::size_t m_at = 0;
    std::optional<element> m_current;
    std::exception_ptr m_current_error; // keep_going: the position of a failed chunk
    std::exception_ptr m_submit_error;
    bool m_started = false;
    bool m_read_by_next = false; // read with next(), not iterated
    bool m_exhausted = false;
    std::uint64_t m_items_read = 0; // the position of the next chunk's first item
    bool m_failed = false;
};

} // namespace weft::detail
