#pragma once
// How a queue item becomes bytes in the ring and back (as pool task arguments do), and the
// awaitable waits of the queue's coroutine forms.

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "executors/channels/detail/queue_state.hpp"
#include "executors/processes/detail/wire.hpp"
#include "executors/processes/shippable.hpp"
#include "executors/shared/detail/attachments.hpp"
#include "runtime/task.hpp"

namespace weft::detail
{

/// The bytes of `item`; the shared memory (or queues) it refers to go into `attached`. A
/// string, a vector of trivially copyable elements or a trivially copyable value is its own
/// bytes (a message holds one item, so no length is needed); anything else goes through cereal.
template <class T>
std::string encode_queue_item(const T& item, attachments& attached)
{
    static_assert(check_shippable_argument<T>());
    if constexpr (std::is_same_v<T, std::string>)
    {
        return item;
    }
    else if constexpr (is_byte_vector<T>::value)
    {
        return std::string(reinterpret_cast<const char*>(item.data()),
                           item.size() * sizeof(typename T::value_type));
    }
    else if constexpr (bytewise_shippable<T>)
    {
        return std::string(reinterpret_cast<const char*>(&item), sizeof item);
    }
    else
    {
        std::string out;
        attachment_scope scope(attached);
        lazy_wire_writer writer(out);
        save_value<T>(writer, item);
        return out;
    }
}

/// The item back, with the descriptors that came with it. Throws std::runtime_error for bytes
/// that cannot be this type (another type's message).
template <class T>
T decode_queue_item(std::string_view message, std::vector<uring::owned_fd> received)
{
    if constexpr (std::is_same_v<T, std::string>)
    {
        return std::string(message);
    }
    else if constexpr (is_byte_vector<T>::value)
    {
        using E = typename T::value_type;
        if (message.size() % sizeof(E) != 0)
        {
            throw std::runtime_error("weft: a message does not hold whole elements");
        }
        T out(message.size() / sizeof(E));
        std::memcpy(out.data(), message.data(), message.size());
        return out;
    }
    else if constexpr (bytewise_shippable<T>)
    {
        if (message.size() != sizeof(T))
        {
            throw std::runtime_error("weft: a message is not the size of its type");
        }
        alignas(T) std::byte storage[sizeof(T)];
        std::memcpy(storage, message.data(), sizeof(T));
        return *std::launder(reinterpret_cast<T*>(storage));
    }
    else
    {
        attachment_inbox inbox(std::move(received));
        wire_reader reader(message);
        return load_value<T>(reader.archive());
    }
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
