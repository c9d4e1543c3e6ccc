#pragma once
// as_completed(futures, timeout): Python's concurrent.futures.as_completed, as an input range.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <string>
#include <unordered_set>
#include <vector>

#include "executors/future.hpp"
#include "executors/wait.hpp"

namespace weft
{

/// The futures of one as_completed() call in the order they finish: those already done first,
/// then each as it finishes. Advancing past the last done future blocks; once the deadline
/// (counted from the as_completed call) passes it throws timeout_error("N (of M) futures
/// unfinished"). Duplicates are yielded once. Single pass, not copyable.
template <class T>
class as_completed_range
{
    struct shared_queue
    {
        std::mutex mutex;
        std::condition_variable changed;
        std::deque<future<T>> finished;
    };

  public:
    class iterator
    {
      public:
        using value_type = future<T>;
        using difference_type = std::ptrdiff_t;

        iterator() = default;
        const future<T>& operator*() const { return *m_range->m_current; }
        const future<T>* operator->() const { return &*m_range->m_current; }
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
            return m_range == nullptr || !m_range->m_current.has_value();
        }
        friend class as_completed_range;
        explicit iterator(as_completed_range* range) : m_range(range) {}
        as_completed_range* m_range = nullptr;
    };

    template <std::ranges::input_range R>
    as_completed_range(R&& futures, std::optional<std::chrono::nanoseconds> timeout)
        : m_queue(std::make_shared<shared_queue>())
    {
        if (timeout)
        {
            m_deadline = detail::deadline_after(*timeout);
        }
        std::unordered_set<const void*> seen;
        std::vector<future<T>> pending;
        for (auto&& f : futures)
        {
            if (!seen.insert(f.shared_state().get()).second)
            {
                continue;
            }
            ++m_total;
            if (f.done())
            {
                m_queue->finished.push_back(f); // Python yields these first
            }
            else
            {
                pending.push_back(f);
            }
        }
        for (auto& f : pending)
        {
            std::uint64_t id = f.shared_state()->add_callback(
                [queue = m_queue](detail::future_state_base& s)
                {
                    future<T> done(
                        std::static_pointer_cast<detail::future_state<T>>(s.shared_from_this()));
                    std::lock_guard lock(queue->mutex);
                    queue->finished.push_back(std::move(done));
                    queue->changed.notify_all();
                });
            if (id == 0)
            {
                std::lock_guard lock(m_queue->mutex);
                m_queue->finished.push_back(f);
            }
            else
            {
                m_registrations.emplace_back(f.shared_state(), id);
            }
        }
    }
    as_completed_range(const as_completed_range&) = delete;
    as_completed_range& operator=(const as_completed_range&) = delete;
    ~as_completed_range()
    {
        for (auto& [state, id] : m_registrations)
        {
            if (auto s = state.lock())
            {
                s->remove_callback(id);
            }
        }
    }

    /// Blocks until the first future is done (or throws timeout_error).
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

  private:
    void advance()
    {
        m_current.reset();
        if (m_yielded == m_total)
        {
            return;
        }
        std::unique_lock lock(m_queue->mutex);
        auto ready = [&] { return !m_queue->finished.empty(); };
        bool got = true;
        if (m_deadline)
        {
            got = m_queue->changed.wait_until(lock, *m_deadline, ready);
        }
        else
        {
            m_queue->changed.wait(lock, ready);
        }
        if (!got)
        {
            throw timeout_error("weft: " + std::to_string(m_total - m_yielded) + " (of " +
                                std::to_string(m_total) + ") futures unfinished");
        }
        m_current.emplace(std::move(m_queue->finished.front()));
        m_queue->finished.pop_front();
        ++m_yielded;
    }

    std::shared_ptr<shared_queue> m_queue;
    // Weak: the range must not keep yielded or abandoned futures alive (Python's
    // test_free_reference_yielded_future).
    std::vector<std::pair<std::weak_ptr<detail::future_state<T>>, std::uint64_t>> m_registrations;
    std::optional<std::chrono::steady_clock::time_point> m_deadline;
    std::optional<future<T>> m_current;
    std::size_t m_total = 0;
    std::size_t m_yielded = 0;
    bool m_started = false;
};

/// Yields `futures` as they complete; see as_completed_range. `timeout` counts from this call.
template <std::ranges::input_range R>
auto as_completed(R&& futures, std::optional<std::chrono::nanoseconds> timeout = std::nullopt)
{
    using T =
        typename detail::future_value<std::remove_cvref_t<std::ranges::range_value_t<R>>>::type;
    return as_completed_range<T>(std::forward<R>(futures), timeout);
}

} // namespace weft
