#pragma once
// Min-heap of pending timers keyed by deadline. Each node remembers its index so that a
// cancelled sleep is removed in O(log n) instead of lingering until it expires.

#include <chrono>
#include <cstddef>
#include <vector>

namespace weft::detail
{

struct timer_node
{
    static constexpr std::size_t not_queued = static_cast<std::size_t>(-1);
    using expire_fn = void (*)(timer_node& self) noexcept;

    std::chrono::steady_clock::time_point deadline{};
    std::size_t heap_index = not_queued;
    expire_fn expire = nullptr;

    [[nodiscard]] bool queued() const noexcept { return heap_index != not_queued; }
};

class timer_heap
{
  public:
    [[nodiscard]] bool empty() const noexcept { return m_nodes.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return m_nodes.size(); }
    [[nodiscard]] timer_node& top() const noexcept { return *m_nodes.front(); }

    void push(timer_node& node)
    {
        node.heap_index = m_nodes.size();
        m_nodes.push_back(&node);
        sift_up(node.heap_index);
    }

    void erase(timer_node& node) noexcept
    {
        const std::size_t index = node.heap_index;
        const std::size_t last = m_nodes.size() - 1;
        node.heap_index = timer_node::not_queued;
        if (index != last)
        {
            place(index, m_nodes[last]);
            m_nodes.pop_back();
            sift_down(index);
            sift_up(index);
        }
        else
        {
            m_nodes.pop_back();
        }
    }

    void clear() noexcept
    {
        for (timer_node* node : m_nodes)
        {
            node->heap_index = timer_node::not_queued;
        }
        m_nodes.clear();
    }

  private:
    void place(std::size_t index, timer_node* node) noexcept
    {
        m_nodes[index] = node;
        node->heap_index = index;
    }

    void sift_up(std::size_t index) noexcept
    {
        timer_node* node = m_nodes[index];
        while (index > 0)
        {
            const std::size_t parent = (index - 1) / 2;
            if (m_nodes[parent]->deadline <= node->deadline)
            {
                break;
            }
            place(index, m_nodes[parent]);
            index = parent;
        }
        place(index, node);
    }

    void sift_down(std::size_t index) noexcept
    {
        const std::size_t count = m_nodes.size();
        if (index >= count)
        {
            return;
        }
        timer_node* node = m_nodes[index];
        while (true)
        {
            std::size_t child = 2 * index + 1;
            if (child >= count)
            {
                break;
            }
            if (child + 1 < count && m_nodes[child + 1]->deadline < m_nodes[child]->deadline)
            {
                ++child;
            }
            if (node->deadline <= m_nodes[child]->deadline)
            {
                break;
            }
            place(index, m_nodes[child]);
            index = child;
        }
        place(index, node);
    }

    std::vector<timer_node*> m_nodes;
};

} // namespace weft::detail
