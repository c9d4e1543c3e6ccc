#pragma once

#include <chrono>

#include "executors/channels/queue.hpp"

namespace weft
{

/// Python's multiprocessing.JoinableQueue: a queue<T> whose consumers mark each item done
/// (task_done), so that join() can wait until every item ever put has been processed.
template <class T>
class joinable_queue : public queue<T>
{
  public:
    using queue<T>::queue;

    /// One item taken earlier is processed. Throws invalid_state_error("task_done() called too
    /// many times") when more were marked than put.
    void task_done() { this->m_state->task_done(); }

    /// Blocks until every item put has been marked done.
    void join() { (void)this->m_state->join(std::nullopt); }
    /// join() for a coroutine: sleeps on the queue's done word through the event loop.
    [[nodiscard]] task<void> async_join()
    {
        const auto state = this->m_state;
        for (;;)
        {
            std::uint32_t seen = 0;
            if (state->all_done(seen))
            {
                co_return;
            }
            co_await detail::wait_for_done(*state, seen);
        }
    }

    /// As join(), for at most `timeout`; false when items were still unfinished.
    template <class Rep, class Period>
    bool join(std::chrono::duration<Rep, Period> timeout)
    {
        return this->m_state->join(detail::state_deadline(detail::deadline::after(timeout)));
    }
};

} // namespace weft
