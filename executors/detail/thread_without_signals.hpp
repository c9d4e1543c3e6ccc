#pragma once
// weft's own threads (a process pool's collector, the launcher, the reaper) take no
// process-directed signal: a SIGINT meant for the program's handler or its signalfd (blocked
// in the program's threads) would otherwise land on one of them, run the handler there or,
// with the default action, end the program, depending on which thread the kernel picked.

#include <signal.h>
#include <thread>
#include <utility>

namespace weft::detail
{

/// Starts std::thread(fn) with every signal blocked in the new thread (a thread inherits its
/// creator's mask); the calling thread's mask is left as it was. Throws what std::thread throws.
template <class F>
[[nodiscard]] std::thread thread_without_signals(F&& fn)
{
    sigset_t all;
    sigset_t before;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &before);
    struct restore
    {
        const sigset_t& mask;
        ~restore() { ::pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
    } restore_on_exit{before};
    return std::thread(std::forward<F>(fn));
}

/// The calling thread's signal mask.
[[nodiscard]] inline sigset_t current_signal_mask() noexcept
{
    sigset_t mask;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    return mask;
}

} // namespace weft::detail
