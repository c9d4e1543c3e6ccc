#pragma once
// Passing descriptors with a message over a Unix-domain socket: the one SCM_RIGHTS control
// message, built the same way by the fork server's client and by shared memory's senders.

#include <cstddef>
#include <span>

#include <sys/socket.h>

namespace weft::detail
{

/// Room for the control message of up to `most` descriptors, aligned as the kernel's macros
/// need.
template <std::size_t most>
struct scm_rights_buffer
{
    alignas(cmsghdr) char bytes[CMSG_SPACE(most * sizeof(int))] = {};
};

/// Makes `fds` the control message of `message`, written into `control` (a scm_rights_buffer's
/// bytes): the receiver gets its own copies of them with the message's first byte. Throws
/// std::length_error when `control` cannot hold them.
void attach_descriptors(msghdr& message, std::span<char> control, std::span<const int> fds);

} // namespace weft::detail
