#pragma once
// The executors' errors. They extend runtime/errors.hpp, whose types keep their meaning here:
// a cancelled future's result() throws operation_cancelled, a result(timeout) that elapses
// throws timeout_error, a second set_result throws invalid_state_error.

#include <stdexcept>
#include <string>

#include "runtime/errors.hpp"

namespace weft
{

/// Thrown by every pending and later future of an executor that can no longer run work (an
/// initializer failed), as Python's BrokenThreadPool / BrokenProcessPool.
class broken_executor_error : public std::runtime_error
{
  public:
    using std::runtime_error::runtime_error;
};

/// Set on a future whose promise was destroyed before giving it a result, so that its waiters
/// get an error instead of waiting forever.
class broken_promise : public std::runtime_error
{
  public:
    broken_promise() : std::runtime_error("weft: promise destroyed before setting a result") {}
};

/// Thrown by a get that found a cross-process queue empty (non-blocking, or when its timeout
/// passed), as Python's queue.Empty.
class queue_empty : public std::runtime_error
{
  public:
    queue_empty() : std::runtime_error("weft: queue is empty") {}
};

/// Thrown by a put that found a bounded cross-process queue full (non-blocking, or when its
/// timeout passed), as Python's queue.Full. The item was not put.
class queue_full : public std::runtime_error
{
  public:
    queue_full() : std::runtime_error("weft: queue is full") {}
};

/// Thrown by a receive on a connection whose other end is closed, with nothing left to read,
/// as Python's EOFError.
class eof_error : public std::runtime_error
{
  public:
    eof_error() : std::runtime_error("weft: the other end of the connection is closed") {}
};

/// Thrown by a listener's accept or a client's connect when the other side does not hold the
/// same authkey (Python's AuthenticationError). The connection is closed.
class authentication_error : public std::runtime_error
{
  public:
    using std::runtime_error::runtime_error;
};

} // namespace weft
