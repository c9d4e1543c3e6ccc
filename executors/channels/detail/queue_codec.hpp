#pragma once
// How a queue item becomes bytes in the ring and back (as pool task arguments do), and the
// awaitable waits of the queue's coroutine forms.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "executors/channels/detail/queue_state.hpp"
#include "executors/processes/detail/wire.hpp"
#include "executors/processes/shippable.hpp"
#include "executors/shared/detail/attachments.hpp"
#include "runtime/task.hpp"

namespace weft::detail
{

/// The bytes of `item`; the shared memory (or queues) it refers to go into `attached`.
template <class T>
std::string encode_queue_item(const T& item, attachments& attached)
{
    static_assert(check_shippable_argument<T>());
    std::string out;
    attachment_scope scope(attached);
    lazy_wire_writer writer(out);
    save_value<T>(writer, item);
    return out;
}

/// The item back, with the descriptors that came with it.
template <class T>
T decode_queue_item(std::string_view message, std::vector<uring::owned_fd> received)
{
    attachment_inbox inbox(std::move(received));
    wire_reader reader(message);
    return load_value<T>(reader.archive());
}

/// The socket pair a queue's items send their descriptors through; every handle of the queue,
/// in every process, holds both ends.
struct queue_carrier
{
    uring::owned_fd send_end;
    uring::owned_fd receive_end;

    /// A new pair. Throws std::system_error.
    [[nodiscard]] static std::shared_ptr<queue_carrier> make();
};

/// Suspends until an item may have arrived (the items word moved from `seen`).
task<void> wait_for_items(queue_state& state, std::uint32_t seen);
/// Suspends until room may have been made.
task<void> wait_for_room(queue_state& state, std::uint32_t seen);
/// Suspends until the last unfinished item may have been marked done (joinable_queue).
task<void> wait_for_done(queue_state& state, std::uint32_t seen);

} // namespace weft::detail
