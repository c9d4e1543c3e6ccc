#pragma once
// The lazy result range of an executor's map: pulls inputs only as far as a window ahead of the
// consumer, and yields results in input order.

#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <iterator>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>

#include "executors/detail/future_state.hpp"
#include "executors/detail/input_cursor.hpp"
#include "executors/map_options.hpp"
#include "runtime/errors.hpp"

namespace weft::detail
{

/// `Submit` is called with one element of each input and returns a future. Single pass.
template <class Submit, class... Rs>
class map_range
{
    using future_type = std::invoke_result_t<Submit&, std::ranges::range_reference_t<Rs>...>;
    using value_type = decltype(std::declval<future_type>().result());
    using stored_value = std::conditional_t<std::is_void_v<value_type>, bool, value_type>;

  public:
    class iterator
    {
      public:
        using value_type = stored_value;
        using difference_type = std::ptrdiff_t;

        iterator() = default;
        stored_value& operator*() const { return *m_range->m_current; }
        stored_value* operator->() const { return &*m_range->m_current; }
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
        friend class map_range;
        explicit iterator(map_range* range) : m_range(range) {}
        map_range* m_range = nullptr;
    };

    template <class... Inputs>
    map_range(Submit submit, map_options opts, Inputs&&... inputs)
        : m_submit(std::move(submit)), m_window(opts.window == 0 ? 1 : opts.window),
          m_deadline(deadline_of(opts)), m_inputs(std::forward<Inputs>(inputs)...)
    {
        refill(); // like Python, the first calls start before anyone iterates
        if (m_in_flight.empty() && m_submit_error)
        {
            std::rethrow_exception(m_submit_error); // nothing submitted: fail at the call
        }
    }
    map_range(const map_range&) = delete;
    map_range& operator=(const map_range&) = delete;
    /// Cancels the calls that have not started (Python's close() of the result iterator).
    ~map_range() { cancel_pending(); }

    /// Waits for the first result; rethrows its exception or timeout_error.
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
    static std::optional<std::chrono::steady_clock::time_point> deadline_of(const map_options& opts)
    {
        if (!opts.timeout)
        {
            return std::nullopt;
        }
        return deadline_after(*opts.timeout);
    }

    void refill()
    {
        while (!m_exhausted && m_in_flight.size() < m_window)
        {
            if (m_inputs.at_end())
            {
                m_exhausted = true;
                return;
            }
            try
            {
                m_in_flight.push_back(m_inputs.with_current(m_submit));
                m_inputs.advance();
            }
            catch (...)
            {
                // A refused submit (the executor shut down) or a throwing input: the results
                // before it still come out in order, then this error, at its position.
                m_submit_error = std::current_exception();
                m_exhausted = true;
            }
        }
    }

    void advance()
    {
        m_current.reset();
        if (m_failed)
        {
            return;
        }
        refill();
        if (m_in_flight.empty())
        {
            if (m_submit_error)
            {
                m_failed = true;
                std::rethrow_exception(m_submit_error);
            }
            return;
        }
        future_type next = std::move(m_in_flight.front());
        m_in_flight.pop_front();
        try
        {
            if constexpr (std::is_void_v<value_type>)
            {
                take(next);
                m_current.emplace(true);
            }
            else
            {
                m_current.emplace(take(next));
            }
        }
        catch (...)
        {
            // As Python's map: a timeout or an error ends the iteration, and the call that timed
            // out is cancelled too if it has not started, with every later one.
            m_failed = true;
            try
            {
                next.cancel();
            }
            catch (...)
            {
                // A future without state cannot be pending: nothing to cancel.
            }
            cancel_pending();
            throw;
        }
    }

    value_type take(future_type& next)
    {
        if (m_deadline)
        {
            auto left = *m_deadline - std::chrono::steady_clock::now();
            if (!next.wait_for(left))
            {
                throw timeout_error("weft: map result not ready before the timeout");
            }
        }
        return std::move(next).result();
    }

    void cancel_pending() noexcept
    {
        for (auto& f : m_in_flight)
        {
            try
            {
                f.cancel();
            }
            catch (...)
            {
                // A future without state cannot be pending: nothing to cancel.
            }
        }
        m_in_flight.clear();
    }

    Submit m_submit;
    std::size_t m_window;
    // Before the inputs: the timeout counts from before their begin(), which may read.
    std::optional<std::chrono::steady_clock::time_point> m_deadline;
    input_cursor<Rs...> m_inputs;
    std::deque<future_type> m_in_flight;
    std::optional<stored_value> m_current;
    std::exception_ptr m_submit_error;
    bool m_started = false;
    bool m_exhausted = false;
    bool m_failed = false;
};

} // namespace weft::detail
