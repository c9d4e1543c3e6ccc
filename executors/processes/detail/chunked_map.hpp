#pragma once
// The lazy result range of a process pool's map, imap and imap_unordered: pulls inputs a chunk
// at a time, at most a window of chunks ahead of the consumer, ships each chunk as one message
// and yields the values one by one, in input order or in the order chunks finish.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "executors/detail/future_state.hpp"
#include "executors/future.hpp"
#include "executors/processes/detail/pool_task.hpp"
#include "runtime/errors.hpp"

namespace weft::detail
{

/// How far a chunked map reads ahead of its consumer. With `chunks` set, exactly that many
/// chunks; otherwise at least `min_chunks`, and more while the chunks in flight are fewer than
/// `max_chunks` and hold fewer than `items` calls and `bytes` of messages: small chunks need
/// many in flight to hide the round trip, large ones must not fill memory.
struct map_window
{
    std::size_t chunks = 0;
    std::size_t min_chunks = 2;
    std::size_t max_chunks = static_cast<std::size_t>(-1);
    std::size_t items = 0;
    std::size_t bytes = 0;
};

/// Which order a chunked map yields its values in.
enum class map_order
{
    inputs,     ///< map, imap: the order of the inputs
    completion, ///< imap_unordered: chunk by chunk as they finish, in order within a chunk
};

/// How a chunked map yields its values, and what a failed chunk does to it.
struct map_style
{
    // Implicit: a map_order alone is the executor's style.
    map_style(map_order how, bool keep_going_after_failure = false) noexcept
        : order(how), keep_going(keep_going_after_failure)
    {
    }
    map_order order;
    /// false (executor.map, as concurrent.futures): a failed chunk rethrows from advancing and
    /// ends the map; what has not started is cancelled. true (pool::imap, as multiprocessing):
    /// a failed chunk is a position of its own, whose dereference rethrows, and advancing goes
    /// on to the next chunk. A timeout or a refused submit ends the map either way.
    bool keep_going;
};

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
    using chunk_future = std::invoke_result_t<decltype(&Ops::submit), Ops&, std::string&&,
                                              std::uint32_t, std::uint64_t>;
    using chunk_values = std::remove_cvref_t<decltype(std::declval<chunk_future>().result())>;
    using element = typename chunk_values::value_type;

    // Chunk numbers in the order they finished (completion order only).
    struct finish_order
    {
        std::mutex mutex;
        std::condition_variable changed;
        std::deque<std::uint64_t> finished;
    };

    struct in_flight
    {
        std::uint64_t number;
        chunk_future values;
        std::size_t items;
        std::size_t bytes;
    };

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
    /// `deadline`: when advancing throws timeout_error.
    template <class... Inputs>
    chunked_map_range(Ops ops, map_style style, std::size_t chunksize, map_window window,
                      std::optional<std::chrono::steady_clock::time_point> deadline,
                      Inputs&&... inputs)
        : m_ops(std::move(ops)), m_order(style.order), m_keep_going(style.keep_going),
          m_chunksize(chunksize), m_window(window), m_deadline(deadline),
          m_inputs(std::views::all(std::forward<Inputs>(inputs))...)
    {
        m_positions.emplace(std::apply(
            [](auto&... views) { return std::tuple(std::ranges::begin(views)...); }, m_inputs));
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
        if (!m_started)
        {
            m_started = true;
            advance();
        }
        return iterator(this);
    }
    std::default_sentinel_t end() const noexcept { return {}; }

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
        std::vector<chunk_future> all;
        all.reserve(m_in_flight.size());
        for (auto& chunk : m_in_flight)
        {
            all.push_back(std::move(chunk.values));
        }
        m_in_flight.clear();
        return all;
    }

  private:
    [[nodiscard]] bool inputs_at_end()
    {
        return std::apply(
            [&](auto&... views)
            {
                return std::apply([&](auto&... its)
                                  { return ((its == std::ranges::end(views)) || ...); },
                                  *m_positions);
            },
            m_inputs);
    }

    [[nodiscard]] bool window_has_room() const noexcept
    {
        if (m_window.chunks != 0)
        {
            return m_in_flight.size() < m_window.chunks;
        }
        return m_in_flight.size() < std::max<std::size_t>(m_window.min_chunks, 1) ||
               (m_in_flight.size() < m_window.max_chunks && m_items_in_flight < m_window.items &&
                m_bytes_in_flight < m_window.bytes);
    }

    // Builds chunks until the window is full or the inputs end, and ships them to the pool in
    // batches. Once the window has been filled, it waits until a batch's worth of it is free
    // (half the window, or g_refill_bytes of messages) unless `now` or nothing is in flight: a
    // chunk of a few calls then no longer costs the pool a lock and each idle worker a
    // wake-up of its own.
    void refill(bool now = false)
    {
        if (!now && !m_in_flight.empty() && m_freed_bytes < g_refill_bytes &&
            2 * m_freed_chunks < m_filled)
        {
            return;
        }
        std::size_t unshipped = 0;
        std::size_t unshipped_bytes = 0;
        while (!m_exhausted && window_has_room())
        {
            try
            {
                std::string message;
                m_ops.begin(message);
                const std::size_t count_at = message.size();
                message.append(sizeof(std::uint32_t), '\0');
                std::uint32_t count = 0;
                if constexpr (Ops::raw_arguments)
                {
                    count = encode_raw(message);
                }
                else
                {
                    lazy_wire_writer writer(message);
                    while (count < m_chunksize && !inputs_at_end())
                    {
                        std::apply([&](auto&... its) { m_ops.encode(writer, *its...); },
                                   *m_positions);
                        std::apply([](auto&... its) { (++its, ...); }, *m_positions);
                        ++count;
                    }
                }
                if (count == 0)
                {
                    m_exhausted = true;
                    break;
                }
                std::memcpy(message.data() + count_at, &count, sizeof count);
                const std::size_t bytes = message.size();
                chunk_future values = m_ops.submit(std::move(message), count, m_items_read);
                m_items_read += count;
                const std::uint64_t number = m_next_number++;
                if (m_order == map_order::completion)
                {
                    values.add_done_callback(
                        [order = m_finish_order, number](const auto&)
                        {
                            std::lock_guard lock(order->mutex);
                            order->finished.push_back(number);
                            order->changed.notify_all();
                        });
                }
                m_in_flight.push_back(in_flight{number, std::move(values), count, bytes});
                m_items_in_flight += count;
                m_bytes_in_flight += bytes;
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
        m_filled = m_in_flight.size();
        m_freed_chunks = 0;
        m_freed_bytes = 0;
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
                forget(m_in_flight.back());
                m_in_flight.pop_back();
            }
            m_submit_error = std::current_exception();
            m_exhausted = true;
        }
    }

    // Inputs whose remaining length is known without reading them (random access, or any
    // iterator with a sized sentinel): a chunk's record count is known before it is written.
    static constexpr bool lengths_known =
        (std::sized_sentinel_for<std::ranges::sentinel_t<std::views::all_t<Rs>>,
                                 std::ranges::iterator_t<std::views::all_t<Rs>>> &&
         ...);

    // Appends the next chunk's records for trivially copyable arguments, written in place: the
    // message grows once per chunk (not once per value), and a contiguous input of the
    // argument type itself is one memcpy. Returns the number of calls.
    std::uint32_t encode_raw(std::string& message)
    {
        constexpr std::size_t record = Ops::record;
        // The count travels as a u32.
        const std::size_t most =
            std::min<std::size_t>(m_chunksize, std::numeric_limits<std::uint32_t>::max());
        if constexpr (lengths_known)
        {
            const std::size_t n = std::apply(
                [&](auto&... views)
                {
                    return std::apply(
                        [&](auto&... its) {
                            return std::min(
                                {most, static_cast<std::size_t>(std::ranges::end(views) - its)...});
                        },
                        *m_positions);
                },
                m_inputs);
            const std::size_t at = message.size();
            message.resize(at + n * record);
            char* to = message.data() + at;
            using first_view = std::views::all_t<std::tuple_element_t<0, std::tuple<Rs...>>>;
            if constexpr (sizeof...(Rs) == 1 && std::ranges::contiguous_range<first_view> &&
                          Ops::template same_record<std::ranges::range_reference_t<first_view>>)
            {
                auto& it = std::get<0>(*m_positions);
                if (n != 0)
                {
                    std::memcpy(to, std::to_address(it), n * record);
                }
                it += static_cast<std::ranges::range_difference_t<first_view>>(n);
            }
            else
            {
                // The positions are walked in a local copy: stores through `to` may alias a
                // member, which kept the compiler reloading and storing the iterators around
                // every record (half the encoding time for a plain iota input).
                auto its = std::move(*m_positions);
                struct put_back
                {
                    decltype(its)& from;
                    decltype(m_positions)& to;
                    ~put_back() { to.emplace(std::move(from)); }
                } guard{its, m_positions};
                for (std::size_t i = 0; i < n; ++i)
                {
                    std::apply([&](auto&... it) { Ops::put(to, *it...); }, its);
                    std::apply([](auto&... it) { (++it, ...); }, its);
                }
            }
            return static_cast<std::uint32_t>(n);
        }
        else
        {
            // An input of unknown length (it may be endless): record by record, never reading
            // past the chunk.
            std::uint32_t count = 0;
            char one[record];
            while (count < most && !inputs_at_end())
            {
                char* to = one;
                std::apply([&](auto&... its) { Ops::put(to, *its...); }, *m_positions);
                message.append(one, record);
                std::apply([](auto&... its) { (++its, ...); }, *m_positions);
                ++count;
            }
            return count;
        }
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
            chunk_future next = std::move(m_in_flight.front().values);
            forget(m_in_flight.front());
            m_in_flight.pop_front();
            return next;
        }
        std::uint64_t number = 0;
        {
            std::unique_lock lock(m_finish_order->mutex);
            auto have_one = [&] { return !m_finish_order->finished.empty(); };
            if (m_deadline)
            {
                if (!m_finish_order->changed.wait_until(lock, *m_deadline, have_one))
                {
                    m_failed = true;
                    lock.unlock();
                    cancel_pending();
                    throw timeout_error("weft: map result not ready before the timeout");
                }
            }
            else
            {
                m_finish_order->changed.wait(lock, have_one);
            }
            number = m_finish_order->finished.front();
            m_finish_order->finished.pop_front();
        }
        for (auto it = m_in_flight.begin(); it != m_in_flight.end(); ++it)
        {
            if (it->number == number)
            {
                chunk_future next = std::move(it->values);
                forget(*it);
                m_in_flight.erase(it);
                return next;
            }
        }
        std::terminate(); // every finished number is one of ours, taken once
    }

    void forget(const in_flight& chunk) noexcept
    {
        m_items_in_flight -= chunk.items;
        m_bytes_in_flight -= chunk.bytes;
        ++m_freed_chunks;
        m_freed_bytes += chunk.bytes;
    }

    void cancel_pending() noexcept
    {
        for (auto& chunk : m_in_flight)
        {
            try
            {
                chunk.values.cancel();
            }
            catch (...)
            {
            }
        }
        m_in_flight.clear();
        m_items_in_flight = 0;
        m_bytes_in_flight = 0;
    }

    Ops m_ops;
    map_order m_order;
    bool m_keep_going;
    std::size_t m_chunksize;
    map_window m_window;
    std::size_t m_items_in_flight = 0;
    std::size_t m_bytes_in_flight = 0;
    std::size_t m_filled = 0;       // chunks in flight after the last refill
    std::size_t m_freed_chunks = 0; // taken since then
    std::size_t m_freed_bytes = 0;  // and their message bytes
    std::optional<std::chrono::steady_clock::time_point> m_deadline;
    std::tuple<std::views::all_t<Rs>...> m_inputs;
    std::optional<std::tuple<std::ranges::iterator_t<std::views::all_t<Rs>>...>> m_positions;
    std::deque<in_flight> m_in_flight;
    std::shared_ptr<finish_order> m_finish_order = std::make_shared<finish_order>();
    std::uint64_t m_next_number = 0;
    chunk_values m_chunk;
    std::size_t m_at = 0;
    std::optional<element> m_current;
    std::exception_ptr m_current_error; // keep_going: the position of a failed chunk
    std::exception_ptr m_submit_error;
    bool m_started = false;
    bool m_exhausted = false;
    std::uint64_t m_items_read = 0; // the position of the next chunk's first item
    bool m_failed = false;
};

} // namespace weft::detail
