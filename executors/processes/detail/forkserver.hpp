#pragma once
// The fork server: a run of this program, single threaded, that forks children for the program
// on request (start_method::forkserver). forkserver_client.cpp is the program's side.
//
// The protocol, over a SOCK_SEQPACKET socket pair: a request is one message of the payload
// header's magic number (a std::uint32_t) carrying, as SCM_RIGHTS, the payload's memfd and then
// the descriptors the child inherits (inherited_fds()), 1 + max_extra_fds at most; the reply is
// one std::int64_t, the child's pid or a negative errno.

#include <cerrno>
#include <cstdint>

#include <sys/types.h>

namespace weft::detail
{

/// The fork server's reply when it cannot give children their own cached TID.
inline constexpr std::int64_t no_tid_field_reply = -EOPNOTSUPP;

/// The server's loop, run by main_guard() in the process spawned for it: answers requests on
/// `socket` until the program closes its end, then exits. Never returns.
[[noreturn]] void run_forkserver(int socket, pid_t parent);

} // namespace weft::detail
