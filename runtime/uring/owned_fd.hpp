#pragma once

#include <coroutine>
#include <utility>

#include "runtime/uring/close_operation.hpp"

namespace weft::uring
{

class close_awaitable;

/// Owns one file descriptor, the resource behind every socket and file type. Destroying it
/// closes the descriptor with close(2) unless close() or release() took it first. Move-only.
class owned_fd
{
  public:
    owned_fd() noexcept = default;
    /// Takes ownership of `fd` (a negative value means none).
    explicit owned_fd(int fd) noexcept : m_fd(fd) {}
    owned_fd(owned_fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    owned_fd& operator=(owned_fd&& other) noexcept
    {
        if (this != &other)
        {
            reset();
            m_fd = std::exchange(other.m_fd, -1);
        }
        return *this;
    }
    owned_fd(const owned_fd&) = delete;
    owned_fd& operator=(const owned_fd&) = delete;
    ~owned_fd() { reset(); }

    /// The descriptor, or -1 when none is owned.
    [[nodiscard]] int get() const noexcept { return m_fd; }
    [[nodiscard]] bool valid() const noexcept { return m_fd >= 0; }

    /// Gives the descriptor to the caller, who must close it; this object then owns none.
    [[nodiscard]] int release() noexcept { return std::exchange(m_fd, -1); }

    /// Closes the descriptor now with close(2), ignoring errors; no-op when none is owned.
    void reset() noexcept;

    /// `co_await close()` closes the descriptor through the ring. The descriptor leaves this
    /// object at the call, and is closed even if the result is dropped unawaited. Not
    /// interrupted by a stop of the awaiting task: cleanup always completes. Throws
    /// std::system_error when the kernel reports an error (the descriptor is released all the
    /// same, as with close(2)). Completes at once when none is owned.
    [[nodiscard]] close_awaitable close() noexcept;

  private:
    int m_fd = -1;
};

/// What owned_fd::close() returns: owns the descriptor until the close is submitted.
class close_awaitable
{
  public:
    explicit close_awaitable(owned_fd fd) noexcept : m_fd(std::move(fd)), m_op(m_fd.get()) {}

    [[nodiscard]] bool await_ready() const noexcept { return !m_fd.valid(); }

    bool await_suspend(std::coroutine_handle<> awaiting)
    {
        // The op is handed a handle without a promise, hence without a stop token: a stop
        // arriving before submission would leave the descriptor open, one arriving after would
        // race the close itself.
        const bool suspended = m_op.await_suspend(awaiting);
        static_cast<void>(m_fd.release()); // queued: the ring owns it now
        m_submitted = true;
        return suspended;
    }

    void await_resume()
    {
        if (m_submitted)
        {
            m_op.await_resume();
        }
    }

  private:
    owned_fd m_fd;
    close_operation m_op;
    bool m_submitted = false;
};

inline close_awaitable owned_fd::close() noexcept
{
    return close_awaitable(std::move(*this));
}

} // namespace weft::uring
