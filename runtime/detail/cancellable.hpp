#pragma once
// An await that can be cancelled through a std::stop_token. The stop callback may run on any
// thread; the event loop makes sure cancel() itself only ever runs on the loop's thread.

#include <atomic>
#include <optional>
#include <stop_token>

namespace weft
{
class event_loop;

namespace detail
{

class cancellable
{
  public:
    /// Runs on the loop thread: make the pending await finish soon as cancelled.
    virtual void cancel() noexcept = 0;

  protected:
    cancellable() = default;
    ~cancellable() = default;
    cancellable(const cancellable&) = delete;
    cancellable& operator=(const cancellable&) = delete;

  private:
    friend class weft::event_loop;
    // Set while the loop holds this object in its list of cancellations requested from other
    // threads; read without the lock only after the stop callback is gone.
    std::atomic<bool> m_remote_queued{false};
};

/// The stop callback every cancellable await registers: forwards to the loop, which runs
/// cancel() on its own thread.
struct cancel_callback
{
    event_loop* loop;
    cancellable* target;
    void operator()() const noexcept;
};

using stop_registration = std::optional<std::stop_callback<cancel_callback>>;

} // namespace detail
} // namespace weft
