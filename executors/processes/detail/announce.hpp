#pragma once
// The process pool's side of passing a task's shared memory to a worker: its descriptors go
// over the worker's SOCK_SEQPACKET socket (SCM_RIGHTS) before the task's bytes go into the
// worker's ring. A send that fails must fail that task alone, never reach the worker as a
// task whose descriptors "did not arrive".

#include <cstdint>
#include <exception>

#include <sys/types.h>

#include "executors/shared/detail/attachments.hpp"

namespace weft::detail
{

enum class announce_outcome
{
    sent,        // or nothing to send
    worker_gone, // the worker's end is closed: its death hands the task back to the queue
    failed,      // anything else (ETOOMANYREFS, ENOBUFS, ENOMEM...): the task cannot be sent
};

/// Sends the descriptors of `attached` for message `id` over `socket` to worker `worker` (0:
/// not started yet). When the outcome is not `sent`, `error` holds a std::system_error naming
/// the task, the worker and the cause (the errno's text), or what else was thrown.
[[nodiscard]] announce_outcome announce_attachments(int socket, pid_t worker, std::uint64_t id,
                                                    const attachments& attached,
                                                    std::exception_ptr& error) noexcept;

} // namespace weft::detail
