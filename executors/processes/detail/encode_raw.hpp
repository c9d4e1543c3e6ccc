#pragma once
// A chunk's calls when every argument is trivially copyable: fixed-size records written in place
// into the message, with no stream and no attachment scope.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ranges>
#include <string>
#include <tuple>

#include "executors/detail/input_cursor.hpp"
#include "executors/processes/detail/message_bytes.hpp"

namespace weft::detail
{

/// Appends the records of the next chunk's calls, at most `chunksize`, to `message` and returns
/// their number. `Ops` is the chunked map's (record, put, same_record). With inputs of known
/// length the message grows once per chunk, not once per value, and a contiguous input of the
/// argument type itself is one memcpy.
template <class Ops, class... Rs>
std::uint32_t encode_raw(message_bytes& message, input_cursor<Rs...>& inputs, std::size_t chunksize)
{
    constexpr std::size_t record = Ops::record;
    // The count travels as a u32.
    const std::size_t most =
        std::min<std::size_t>(chunksize, std::numeric_limits<std::uint32_t>::max());
    if constexpr (input_cursor<Rs...>::lengths_known)
    {
        const std::size_t n = std::min(most, inputs.remaining());
        const std::size_t at = message.size();
        message.resize(at + n * record);
        char* to = message.data() + at;
        using first_view = std::views::all_t<std::tuple_element_t<0, std::tuple<Rs...>>>;
        if constexpr (sizeof...(Rs) == 1 && std::ranges::contiguous_range<first_view> &&
                      Ops::template same_record<std::ranges::range_reference_t<first_view>>)
        {
            inputs.copy_next(to, n, record);
        }
        else
        {
            inputs.for_next(n, [&](const auto&... elements) { Ops::put(to, elements...); });
        }
        return static_cast<std::uint32_t>(n);
    }
    else
    {
        // An input of unknown length (it may be endless): record by record, never reading
        // past the chunk.
        std::uint32_t count = 0;
        char one[record];
        while (count < most && !inputs.at_end())
        {
            char* to = one;
            inputs.with_current([&](const auto&... elements) { Ops::put(to, elements...); });
            message.append(one, record);
            inputs.advance();
            ++count;
        }
        return count;
    }
}

} // namespace weft::detail
