#pragma once

#include <algorithm>
#include <chrono>
#include <concepts>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "executors/threads/event.hpp"
#include "executors/threads/thread.hpp"

namespace weft
{

/// Python's threading.Timer: a thread that, once started, waits `interval` (a negative one
/// counts as zero, as in Python) and then calls function(args...) (decay-copied), unless
/// cancel() came first.
///
/// cancel() before the call means it never runs and the thread ends promptly; cancel() after
/// it is a no-op. start() twice throws weft::invalid_state_error, as for any thread. Like
/// every non-daemon weft::thread, destroying a started timer joins it: call cancel() first to
/// drop a pending call rather than wait for it.
///
/// Threading: start() once from one thread; cancel() and the thread observers from any.
class timer : public thread
{
  public:
    /// A timer named "Thread-N" that calls function(args...) `interval` after start().
    template <class Rep, class Period, class Function, class... Args>
    requires std::invocable<std::decay_t<Function>, std::decay_t<Args>...>
    timer(std::chrono::duration<Rep, Period> interval, Function&& function, Args&&... args)
        : timer(options{}, interval, std::forward<Function>(function), std::forward<Args>(args)...)
    {
    }

    /// The same, with a name or the daemon flag.
    template <class Rep, class Period, class Function, class... Args>
    requires std::invocable<std::decay_t<Function>, std::decay_t<Args>...>
    timer(options opts, std::chrono::duration<Rep, Period> interval, Function&& function,
          Args&&... args)
        : timer(std::make_shared<event>(), std::move(opts),
                std::max(std::chrono::ceil<std::chrono::nanoseconds>(interval),
                         std::chrono::nanoseconds(0)),
                std::forward<Function>(function), std::forward<Args>(args)...)
    {
    }

    /// Stops the timer if it has not fired yet; does nothing afterwards. Does not wait for
    /// the thread: join() for that.
    void cancel() { m_finished->set(); }

  private:
    template <class Function, class... Args>
    timer(std::shared_ptr<event> finished, options opts, std::chrono::nanoseconds interval,
          Function&& function, Args&&... args)
        : thread(std::move(opts),
                 [finished, interval, fn = std::decay_t<Function>(std::forward<Function>(function)),
                  arguments =
                      std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...)]() mutable
                 {
                     // Python's Timer.run(): wait for cancel() or the interval, whichever
                     // comes first.
                     if (!finished->wait(interval))
                     {
                         std::apply(std::move(fn), std::move(arguments));
                     }
                     finished->set();
                 }),
          m_finished(std::move(finished))
    {
    }

    std::shared_ptr<event> m_finished; // shared with the thread's body
};

} // namespace weft
