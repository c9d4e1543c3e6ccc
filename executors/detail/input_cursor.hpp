#pragma once
// The inputs of a map walked in step: one element of each per call, ending with the shortest
// input, as Python's map.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <tuple>
#include <utility>

namespace weft::detail
{

/// Holds each input as a view (an rvalue container moves in) and its position. Not copyable or
/// movable: the positions may point into the views held here.
template <class... Rs>
class input_cursor
{
    using views = std::tuple<std::views::all_t<Rs>...>;
    using positions = std::tuple<std::ranges::iterator_t<std::views::all_t<Rs>>...>;

  public:
    /// Inputs whose remaining length is known without reading them (random access, or any
    /// iterator with a sized sentinel): a chunk's record count is known before it is written.
    static constexpr bool lengths_known =
        (std::sized_sentinel_for<std::ranges::sentinel_t<std::views::all_t<Rs>>,
                                 std::ranges::iterator_t<std::views::all_t<Rs>>> &&
         ...);

    template <class... Inputs>
    explicit input_cursor(Inputs&&... inputs)
        : m_views(std::views::all(std::forward<Inputs>(inputs))...)
    {
        m_positions.emplace(std::apply(
            [](auto&... views) { return std::tuple(std::ranges::begin(views)...); }, m_views));
    }
    input_cursor(const input_cursor&) = delete;
    input_cursor& operator=(const input_cursor&) = delete;

    [[nodiscard]] bool at_end()
    {
        return std::apply(
            [&](auto&... views)
            {
                return std::apply([&](auto&... its)
                                  { return ((its == std::ranges::end(views)) || ...); },
                                  *m_positions);
            },
            m_views);
    }

    /// `f(elements...)`, with the current element of each input as its iterator yields it.
    template <class F>
    decltype(auto) with_current(F&& f)
    {
        return std::apply([&](auto&... its) -> decltype(auto) { return f(*its...); }, *m_positions);
    }

    void advance()
    {
        std::apply([](auto&... its) { (++its, ...); }, *m_positions);
    }

    /// The elements left in the shortest input (lengths_known only).
    [[nodiscard]] std::size_t remaining()
    {
        return std::apply(
            [&](auto&... views)
            {
                return std::apply(
                    [&](auto&... its) {
                        return std::min(
                            {static_cast<std::size_t>(std::ranges::end(views) - its)...});
                    },
                    *m_positions);
            },
            m_views);
    }

    /// Calls `f(elements...)` for the next `n` positions and moves past them; there must be
    /// that many (see remaining()).
    template <class F>
    void for_next(std::size_t n, F&& f)
    {
        // The positions are walked in a local copy: stores through an output pointer in `f` may
        // alias a member, which kept the compiler reloading and storing the iterators around
        // every record (half the encoding time for a plain iota input).
        auto its = std::move(*m_positions);
        struct put_back
        {
            positions& from;
            std::optional<positions>& to;
            ~put_back() { to.emplace(std::move(from)); }
        } guard{its, m_positions};
        for (std::size_t i = 0; i < n; ++i)
        {
            std::apply([&](auto&... it) { f(*it...); }, its);
            std::apply([](auto&... it) { (++it, ...); }, its);
        }
    }

    /// One contiguous input: copies the bytes of its next `n` elements, `element_bytes` each, to
    /// `to` with one memcpy and moves past them; there must be that many.
    void copy_next(char* to, std::size_t n, std::size_t element_bytes)
    {
        static_assert(sizeof...(Rs) == 1 &&
                      (std::ranges::contiguous_range<std::views::all_t<Rs>> && ...));
        auto& it = std::get<0>(*m_positions);
        if (n != 0)
        {
            std::memcpy(to, std::to_address(it), n * element_bytes);
        }
        it += static_cast<std::iter_difference_t<std::tuple_element_t<0, positions>>>(n);
    }

  private:
    views m_views;
    // Optional: an input's iterator need not be default constructible, and for_next moves the
    // positions out while it walks them.
    std::optional<positions> m_positions;
};

} // namespace weft::detail
