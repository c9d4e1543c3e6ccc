#pragma once

#include <coroutine>
#include <cstddef>
#include <deque>
#include <optional>
#include <type_traits>
#include <utility>

#include "runtime/errors.hpp"
#include "runtime/sync/detail/waiter_list.hpp"

namespace weft
{

/// A FIFO queue between tasks on one event_loop (asyncio.Queue, with Python 3.13's shutdown as
/// close()). Bounded when `maxsize` > 0: put() suspends while the queue is full. get()
/// suspends while it is empty.
///
/// Order: items come out in the order their put() completed; blocked producers and consumers
/// are served oldest first. An item put while consumers wait goes straight to the oldest one.
///
/// Closing: close() makes every pending and later put() throw queue_closed (its item is not
/// enqueued), and every get() return the items still queued, then throw queue_closed once the
/// queue is empty.
///
/// Cancellation: a put() or get() whose task's stop token is stopped while it waits throws
/// operation_cancelled, so with_timeout(d, q.get()) throws timeout_error. No item is lost or
/// duplicated: a cancelled put() has not enqueued its item; a cancelled get() has not
/// dequeued one. A get() that was already handed an item returns it even if the stop arrives
/// before it resumes; if its frame is destroyed before it resumes, the item goes back to the
/// front of the queue (which may then briefly hold more than `maxsize` items).
///
/// Threading: not thread-safe. Use it from tasks of a single loop, on that loop's thread.
/// Destroying a queue that tasks are waiting on resumes them with invalid_state_error.
template <class T>
class async_queue
{
    static_assert(std::is_move_constructible_v<T>, "async_queue<T> needs a movable T");

  public:
    /// What put() returns; `co_await` it.
    class [[nodiscard]] put_awaiter : public detail::waiter
    {
      public:
        put_awaiter(async_queue& queue, T item) noexcept(std::is_nothrow_move_constructible_v<T>)
            : waiter("async_queue::put"), m_queue(&queue), m_item(std::move(item))
        {
        }
        // Moved only before it is awaited (with_timeout wraps it in a task).
        put_awaiter(put_awaiter&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
            : put_awaiter(*other.m_queue, std::move(other.m_item))
        {
        }
        put_awaiter(const put_awaiter&) = delete;
        put_awaiter& operator=(const put_awaiter&) = delete;
        put_awaiter& operator=(put_awaiter&&) = delete;
        ~put_awaiter() = default;

        [[nodiscard]] bool await_ready() const noexcept { return false; }

        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> awaiting)
        {
            return suspend_on(m_queue->m_putters, awaiting,
                              [this]
                              {
                                  if (m_queue->m_closed)
                                  {
                                      m_closed = true;
                                      return true;
                                  }
                                  return m_queue->offer(m_item);
                              });
        }

        void await_resume()
        {
            finish();
            if (m_closed)
            {
                throw queue_closed();
            }
        }

      private:
        friend class async_queue;

        async_queue* m_queue;
        T m_item;
        bool m_closed = false;
    };

    /// What get() returns; `co_await` it for the item.
    class [[nodiscard]] get_awaiter : public detail::waiter
    {
      public:
        explicit get_awaiter(async_queue& queue) noexcept
            : waiter("async_queue::get"), m_queue(&queue)
        {
        }
        // Moved only before it is awaited (with_timeout wraps it in a task).
        get_awaiter(get_awaiter&& other) noexcept : get_awaiter(*other.m_queue) {}
        get_awaiter(const get_awaiter&) = delete;
        get_awaiter& operator=(const get_awaiter&) = delete;
        get_awaiter& operator=(get_awaiter&&) = delete;
        ~get_awaiter()
        {
            // An item was handed over but the frame is going away without resuming: put it
            // back rather than lose it.
            if (handed())
            {
                unlink();
                m_queue->give_back(std::move(*m_item));
            }
        }

        [[nodiscard]] bool await_ready() const noexcept { return false; }

        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> awaiting)
        {
            return suspend_on(m_queue->m_getters, awaiting,
                              [this]
                              {
                                  if (!m_queue->m_items.empty())
                                  {
                                      m_item.emplace(m_queue->pop());
                                      return true;
                                  }
                                  if (m_queue->m_closed)
                                  {
                                      m_closed = true;
                                      return true;
                                  }
                                  return false;
                              });
        }

        [[nodiscard]] T await_resume()
        {
            finish();
            if (m_closed)
            {
                throw queue_closed();
            }
            return std::move(*m_item);
        }

      private:
        friend class async_queue;

        async_queue* m_queue;
        std::optional<T> m_item;
        bool m_closed = false;
    };

    /// A queue holding at most `maxsize` items; 0 means unbounded.
    explicit async_queue(std::size_t maxsize = 0) noexcept : m_maxsize(maxsize) {}
    async_queue(const async_queue&) = delete;
    async_queue& operator=(const async_queue&) = delete;
    ~async_queue() = default;

    /// `co_await put(item)` appends `item`, suspending while the queue is full. Throws
    /// queue_closed once the queue is closed, operation_cancelled if the task's stop token is
    /// stopped first; in both cases the item was not enqueued.
    [[nodiscard]] put_awaiter put(T item) noexcept(std::is_nothrow_move_constructible_v<T>)
    {
        return put_awaiter(*this, std::move(item));
    }

    /// `co_await get()` removes and returns the oldest item, suspending while the queue is
    /// empty. Throws queue_closed once the queue is closed and empty, operation_cancelled if
    /// the task's stop token is stopped first (no item was taken).
    [[nodiscard]] get_awaiter get() noexcept { return get_awaiter(*this); }

    /// Appends `item` unless the queue is full; never suspends. `item` is moved from only when
    /// this returns true. Throws queue_closed once the queue is closed.
    [[nodiscard]] bool try_put(T&& item)
    {
        throw_if_closed();
        return offer(item);
    }

    /// Appends a copy of `item` unless the queue is full; never suspends. Throws queue_closed
    /// once the queue is closed.
    [[nodiscard]] bool try_put(const T& item) requires std::is_copy_constructible_v<T>
    {
        throw_if_closed();
        if (m_getters.empty() && full())
        {
            return false;
        }
        T copy(item);
        return offer(copy);
    }

    /// Removes and returns the oldest item, or std::nullopt when the queue is empty; never
    /// suspends. Throws queue_closed once the queue is closed and empty.
    [[nodiscard]] std::optional<T> try_get()
    {
        if (!m_items.empty())
        {
            return pop();
        }
        throw_if_closed();
        return std::nullopt;
    }

    /// Items in the queue (not counting those held by suspended put()s).
    [[nodiscard]] std::size_t size() const noexcept { return m_items.size(); }
    [[nodiscard]] bool empty() const noexcept { return m_items.empty(); }
    /// True when the queue is bounded and holds `maxsize` items (or more, briefly, after an
    /// item was given back by a destroyed get()).
    [[nodiscard]] bool full() const noexcept
    {
        return m_maxsize != 0 && m_items.size() >= m_maxsize;
    }
    [[nodiscard]] std::size_t maxsize() const noexcept { return m_maxsize; }

    /// Closes the queue and wakes every waiter: suspended put()s throw queue_closed, suspended
    /// get()s (the queue is empty while they wait) throw queue_closed. Idempotent.
    void close() noexcept
    {
        m_closed = true;
        while (!m_putters.empty())
        {
            auto& putter = m_putters.template front<put_awaiter>();
            putter.m_closed = true;
            putter.resume_with(detail::waiter::outcome::woken);
        }
        while (!m_getters.empty())
        {
            auto& getter = m_getters.template front<get_awaiter>();
            getter.m_closed = true;
            getter.resume_with(detail::waiter::outcome::woken);
        }
    }

    [[nodiscard]] bool closed() const noexcept { return m_closed; }

  private:
    void throw_if_closed() const
    {
        if (m_closed)
        {
            throw queue_closed();
        }
    }

    // Hands `item` to the oldest waiting get(), or appends it if there is room. Moves from
    // `item` only when it returns true.
    bool offer(T& item)
    {
        if (!m_getters.empty())
        {
            auto& getter = m_getters.template front<get_awaiter>();
            getter.m_item.emplace(std::move(item));
            getter.resume_with(detail::waiter::outcome::woken, &m_handed);
            return true;
        }
        if (full())
        {
            return false;
        }
        m_items.push_back(std::move(item));
        return true;
    }

    // Takes the oldest item, then lets waiting put()s fill the room it leaves.
    T pop()
    {
        T item = std::move(m_items.front());
        m_items.pop_front();
        while (!m_putters.empty() && !full())
        {
            auto& putter = m_putters.template front<put_awaiter>();
            m_items.push_back(std::move(putter.m_item));
            putter.resume_with(detail::waiter::outcome::woken);
        }
        return item;
    }

    // An item handed to a get() whose frame was destroyed: it was the oldest, so it goes first.
    void give_back(T&& item)
    {
        if (!m_getters.empty())
        {
            offer(item);
        }
        else
        {
            m_items.push_front(std::move(item));
        }
    }

    std::deque<T> m_items;
    detail::waiter_list m_handed;  // get()s handed an item, not resumed yet
    detail::waiter_list m_putters; // put()s waiting for room, oldest first
    detail::waiter_list m_getters; // get()s waiting for an item, oldest first
    std::size_t m_maxsize;
    bool m_closed = false;
};

} // namespace weft
