#pragma once
// The process pool's side of passing a task's shared memory to a worker: its descriptors go
// over the worker's SOCK_SEQPACKET socket (SCM_RIGHTS) before the task's bytes go into the
// worker's ring. A send that fails must fail that task alone, never reach the worker as a
// task whose descriptors "did not arrive". No send waits for the worker: the pool sends under
// its lock, and a worker that must hand back results before it reads its socket would wait for
// that lock in turn. A send of several datagrams goes only to an idle worker, and fails when
// they do not all fit in the socket's buffer (about 69,000 descriptors at the default): a
// message's datagrams are not resumed halfway, and an idle worker reads nothing until its
// task's message comes.

#include <cstdint>
#include <exception>

#include <sys/types.h>

#include "executors/shared/detail/attachments.hpp"

namespace weft::detail
{

enum class announce_outcome
{
    sent,             // or nothing to send
    full,             // nothing went: the socket's buffer is full until the worker reads (POLLOUT);
                      // at an idle worker, which will not read, the outcome is `failed` instead
    not_idle,         // nothing went: more than one datagram, or more descriptors in flight
                      // than RLIMIT_NOFILE allows (ETOOMANYREFS), and the worker is not idle
    worker_gone,      // the worker's end is closed: its death hands the task back to the queue
    failed,           // anything else (ENOBUFS, ENOMEM, ETOOMANYREFS at an idle worker...): the
                      // task cannot be sent
    failed_part_sent, // as failed, after some of its datagrams went (EMSGSIZE...): they would
                      // fill the socket of a worker that reads nothing, which must retire
};

/// Sends the descriptors of `attached` for message `id` over `socket` to worker `worker` (0:
/// not started yet), or nothing. `idle`: the worker has read every datagram sent before (it
/// holds no task written earlier). Descriptors that fill more than one datagram go only to an
/// idle worker, all at once: a message's datagrams cannot be resumed halfway (the worker would
/// take the rest for another message's), and only a worker that reads nothing else meanwhile
/// has room for all of them (a socket holds a few hundred datagrams, whatever they carry: 278
/// at the default 208 KiB buffer). When the outcome is `worker_gone`, `failed` or
/// `failed_part_sent`, `error` holds a std::system_error naming the task, the worker and the
/// cause (the errno's text), or what else was thrown.
[[nodiscard]] announce_outcome announce_attachments(int socket, pid_t worker, std::uint64_t id,
                                                    const attachments& attached, bool idle,
                                                    std::exception_ptr& error) noexcept;

} // namespace weft::detail
