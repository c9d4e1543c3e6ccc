#pragma once
// Min-heap of pending timers keyed by deadline. The heap array holds (deadline, node*) pairs, so
// that sifting compares deadlines in one contiguous array instead of reading them from the
// coroutine frames the nodes live in; it is 4-ary, so that the four children compared at each
// level share a cache line and a million timers make 10 levels instead of 20. Each node
// remembers its index, so that a cancelled sleep is removed in O(log n) instead of lingering
// until it expires.

#include <chrono>
#include <cstddef>
#include <vector>

namespace weft::detail
{

struct timer_node
{
    static constexpr std::size_t not_queued = static_cast<std::size_t>(-1);
    /// Called on the loop thread once the node has left the heap: at its deadline
    /// (`cancelled` false), or when the loop is stopped and the node asked for that with
    /// `stop_with_loop` (`cancelled` true).
    using expire_fn = void (*)(timer_node& self, bool cancelled) noexcept;

    std::size_t heap_index = not_queued;
    expire_fn expire = nullptr;
    /// Set by an await that observes exactly the loop's own stop token and therefore registers
    /// no stop callback: event_loop::stop removes the node and calls expire(node, true).
    bool stop_with_loop = false;

    [[nodiscard]] bool queued() const noexcept { return heap_index != not_queued; }
};

class timer_heap
{
  public:
    using time_point = std::chrono::steady_clock::time_point;

    struct entry
    {
        time_point deadline;
        timer_node* node;
    };

    [[nodiscard]] bool empty() const noexcept { return m_entries.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return m_entries.size(); }
    /// The earliest entry; the heap must not be empty.
    [[nodiscard]] const entry& top() const noexcept { return m_entries.front(); }

    void push(timer_node& node, time_point deadline)
    {
        const std::size_t index = m_entries.size();
        m_entries.push_back(entry{deadline, &node});
        sift_up(index, entry{deadline, &node});
    }

    /// Removes and returns the earliest node; the heap must not be empty.
    timer_node& pop() noexcept
    {
        timer_node& node = *m_entries.front().node;
        node.heap_index = timer_node::not_queued;
        const entry last = m_entries.back();
        m_entries.pop_back();
        if (!m_entries.empty())
        {
            sift_down(0, last);
        }
        return node;
    }

    void erase(timer_node& node) noexcept
    {
        const std::size_t index = node.heap_index;
        node.heap_index = timer_node::not_queued;
        const entry last = m_entries.back();
        m_entries.pop_back();
        if (index == m_entries.size())
        {
            return;
        }
        if (index > 0 && last.deadline < m_entries[parent_of(index)].deadline)
        {
            sift_up(index, last);
        }
        else
        {
            sift_down(index, last);
        }
    }

    /// Every queued node, in heap order (for a sweep that must not modify the heap while it
    /// walks it).
    template <class Fn>
    void for_each(Fn&& fn) const
    {
        for (const entry& e : m_entries)
        {
            fn(*e.node);
        }
    }

    void clear() noexcept
    {
        for (const entry& e : m_entries)
        {
            e.node->heap_index = timer_node::not_queued;
        }
        m_entries.clear();
    }

  private:
    static constexpr std::size_t arity = 4;

    static std::size_t parent_of(std::size_t index) noexcept { return (index - 1) / arity; }

    void place(std::size_t index, const entry& e) noexcept
    {
        m_entries[index] = e;
        e.node->heap_index = index;
    }

    // Moves `e` up from the hole at `index` to where it belongs.
    void sift_up(std::size_t index, const entry& e) noexcept
    {
        while (index > 0)
        {
            const std::size_t parent = parent_of(index);
            if (!(e.deadline < m_entries[parent].deadline))
            {
                break;
            }
            place(index, m_entries[parent]);
            index = parent;
        }
        place(index, e);
    }

    // Moves `e` down from the hole at `index` to where it belongs.
    void sift_down(std::size_t index, const entry& e) noexcept
    {
        const std::size_t count = m_entries.size();
        while (true)
        {
            const std::size_t first = arity * index + 1;
            if (first >= count)
            {
                break;
            }
            const std::size_t end = first + arity < count ? first + arity : count;
            std::size_t best = first;
            for (std::size_t child = first + 1; child < end; ++child)
            {
                if (m_entries[child].deadline < m_entries[best].deadline)
                {
                    best = child;
                }
            }
            if (!(m_entries[best].deadline < e.deadline))
            {
                break;
            }
            place(index, m_entries[best]);
            index = best;
        }
        place(index, e);
    }

    std::vector<entry> m_entries;
};

} // namespace weft::detail
