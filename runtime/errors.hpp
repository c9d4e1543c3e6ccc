#pragma once
// The runtime's exception hierarchy, read as a whole. I/O failures are std::system_error
// carrying the errno; these types cover the outcomes that are not an errno.

#include <stdexcept>
#include <string>

namespace weft
{

/// Thrown by an await whose operation was cancelled through its std::stop_token.
class operation_cancelled : public std::runtime_error
{
  public:
    operation_cancelled() : std::runtime_error("weft: operation cancelled") {}
    explicit operation_cancelled(const std::string& what) : std::runtime_error(what) {}
};

/// Thrown when a deadline passes first: with_timeout, and every blocking call's timeout form.
class timeout_error : public std::runtime_error
{
  public:
    timeout_error() : std::runtime_error("weft: timed out") {}
    explicit timeout_error(const std::string& what) : std::runtime_error(what) {}
};

/// Thrown by event_loop's constructor when io_uring cannot be set up; what() names the cause
/// and the fix.
class uring_unavailable : public std::runtime_error
{
  public:
    uring_unavailable(int error_number, const std::string& what)
        : std::runtime_error(what), m_errno(error_number)
    {
    }
    /// The errno io_uring_setup failed with.
    [[nodiscard]] int error_number() const noexcept { return m_errno; }

  private:
    int m_errno;
};

/// Thrown by a use of an object in a state that does not allow it (a moved-from task, a closed
/// queue, a broken barrier); the message says which.
class invalid_state_error : public std::logic_error
{
  public:
    using std::logic_error::logic_error;
};

/// Thrown by a put or get on a closed queue (once a closed queue is drained, for get).
class queue_closed : public std::runtime_error
{
  public:
    queue_closed() : std::runtime_error("weft: queue is closed") {}
};

/// Thrown by a wait on a barrier that is broken or was aborted, as Python's BrokenBarrierError.
class broken_barrier_error : public std::runtime_error
{
  public:
    broken_barrier_error() : std::runtime_error("weft: barrier is broken") {}
};

} // namespace weft
