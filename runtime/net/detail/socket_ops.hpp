#pragma once
// The synchronous socket calls shared by every socket type: none of them waits on the network,
// so they are plain system calls rather than ring operations.

#include "runtime/net/socket_address.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{

/// A new socket of `family` and `type`, always non-blocking and close-on-exec: the ring punts
/// I/O on blocking descriptors to worker threads. Throws std::system_error.
[[nodiscard]] uring::owned_fd open_socket(int family, int type);

/// setsockopt with an int value; throws std::system_error naming `what`.
void set_int_option(int fd, int level, int name, int value, const char* what);

/// bind(2); throws std::system_error naming the address.
void bind_to(int fd, const socket_address& address);

/// listen(2); throws std::system_error.
void start_listening(int fd, int backlog);

/// getsockname(2) / getpeername(2); throw std::system_error.
[[nodiscard]] socket_address local_address_of(int fd);
[[nodiscard]] socket_address peer_address_of(int fd);

} // namespace weft::detail
