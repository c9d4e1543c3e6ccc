#pragma once
// Umbrella for runtime/net/: included by runtime/runtime.hpp.

#include "runtime/net/shutdown_how.hpp"
#include "runtime/net/socket_address.hpp"
#include "runtime/net/tcp_listener.hpp"
#include "runtime/net/tcp_stream.hpp"
#include "runtime/net/udp_socket.hpp"
#include "runtime/net/unix_listener.hpp"
#include "runtime/net/unix_stream.hpp"
