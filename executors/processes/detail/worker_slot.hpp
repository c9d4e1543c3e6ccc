#pragma once
// The process pool's record of one worker process: its handle, its channel, and the calls it
// holds in the order they were sent.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "executors/processes/detail/announce.hpp"
#include "executors/processes/detail/launch.hpp"
#include "executors/processes/detail/pool_task.hpp"
#include "executors/processes/detail/shm_channel.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

/// One worker process and the pool's side of its channel.
struct worker_slot
{
    child_handle child;
    uring::owned_fd memfd;
    uring::owned_fd socket; // carries the shared memory descriptors of tasks (attachments.hpp)
    shm_channel channel;
    std::deque<std::shared_ptr<pool_call_base>> assigned; // sent or being sent, in order
    std::size_t written = 0;    // calls at the front of `assigned` wholly in the ring
    std::size_t partial = 0;    // bytes of assigned[written] already in the ring
    bool announced = false;     // assigned[written]'s descriptors went over `socket`
    std::string inbox;          // result bytes not yet a whole message
    std::size_t inbox_at = 0;   // where the unparsed part of `inbox` begins
    std::uint32_t sent = 0;     // calls ever assigned (max_tasks_per_child)
    bool stop_sent = false;     // the stop message is in the ring
    bool killed = false;        // terminate() killed it: what it still sends is dropped
    bool deaf = false;          // alive with its socket's end closed: killed once idle
    bool ran_something = false; // at least one outcome came back
    // full or not_idle: why assigned[written]'s descriptors wait to go (announce_attachments);
    // worker_gone: its socket's peer closed, so it is dying and nothing more goes to it.
    announce_outcome held = announce_outcome::sent;

    // Waiters registered on this channel, and drainers about to ring it: while any, the slot
    // (and so the mapping they read without the lock) outlives its worker in m_retired.
    int pins = 0;
    bool retired = false;
};

} // namespace weft::detail
