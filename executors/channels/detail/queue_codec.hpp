#pragma once
// How a queue item becomes bytes in the ring and back (as pool task arguments do), and the
// awaitable waits of the queue's coroutine forms.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "executors/channels/detail/queue_state.hpp"
#include "executors/processes/detail/wire.hpp"
#include "executors/processes/shippable.hpp"
#include "executors/shared/detail/attachments.hpp"
#include "runtime/task.hpp"

namespace weft::detail
{

template <class T>
std::string encode_queue_item(const T& item)
{
    static_assert(check_shippable_argument<T>());
    std::string out;
    attachments attached;
    {
        attachment_scope scope(attached);
        lazy_wire_writer writer(out);
        save_value<T>(writer, item);
    }
    if (!attached.empty())
    {
        throw std::logic_error("weft: queue: an item that refers to shared memory (shared_value, "
                               "an interprocess lock, a queue) cannot go through a queue yet: "
                               "pass it as a process or pool task argument");
    }
    return out;
}

template <class T>
T decode_queue_item(std::string_view message)
{
    wire_reader reader(message);
    return load_value<T>(reader.archive());
}

/// Suspends until an item may have arrived (the items word moved from `seen`).
task<void> wait_for_items(queue_state& state, std::uint32_t seen);
/// Suspends until room may have been made.
task<void> wait_for_room(queue_state& state, std::uint32_t seen);

} // namespace weft::detail
