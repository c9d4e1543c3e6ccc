#pragma once
// The message of one chunk of a process pool's map: the pool's head, the number of calls, then
// each call's arguments, read from the inputs as far as the chunk goes and no further.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "executors/detail/input_cursor.hpp"
#include "executors/processes/detail/encode_raw.hpp"
#include "executors/processes/detail/message_bytes.hpp"
#include "executors/processes/detail/wire.hpp"

namespace weft::detail
{

/// Writes the next chunk of at most `chunksize` calls into the empty `message` and returns its
/// count, 0 at the end of the inputs. `Ops` is the chunked map's (begin, encode, or
/// raw_arguments and what encode_raw needs).
template <class Ops, class... Rs>
std::uint32_t encode_chunk(Ops& ops, message_bytes& message, input_cursor<Rs...>& inputs,
                           std::size_t chunksize)
{
    ops.begin(message);
    // The count is known at the end (an input may end first): its place is kept.
    const std::size_t count_at = message.size();
    message.append(sizeof(std::uint32_t), '\0');
    std::uint32_t count = 0;
    if constexpr (Ops::raw_arguments)
    {
        count = encode_raw<Ops>(message, inputs, chunksize);
    }
    else
    {
        lazy_wire_writer writer(message);
        while (count < chunksize && !inputs.at_end())
        {
            inputs.with_current([&](const auto&... elements) { ops.encode(writer, elements...); });
            inputs.advance();
            ++count;
        }
    }
    std::memcpy(message.data() + count_at, &count, sizeof count);
    return count;
}

} // namespace weft::detail
