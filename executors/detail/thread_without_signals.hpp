#pragma once
// weft's own threads (a process pool's collector, the launcher, the reaper) take no
// process-directed asynchronous signal: a SIGINT meant for the program's handler or its
// signalfd (blocked in the program's threads) would otherwise land on one of them, run the
// handler there or, with the default action, end the program, depending on which thread the
// kernel picked.

#include <pthread.h>
#include <signal.h>
#include <thread>
#include <utility>

namespace weft::detail
{

/// Starts std::thread(fn) named `name` (at most 15 characters: what top -H, gdb and
/// /proc/PID/task/TID/comm show) with every asynchronous signal blocked in the new thread (a
/// thread inherits its creator's mask); the calling thread's mask is left as it was. The signals
/// of a fault stay unblocked: blocked, the kernel would kill the process on a fault in that
/// thread without running a crash handler (a sanitizer's report). Throws what std::thread
/// throws.
template <class F>
[[nodiscard]] std::thread thread_without_signals(const char* name, F&& fn)
{
    sigset_t all;
    sigset_t before;
    ::sigfillset(&all);
    for (const int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS})
    {
        ::sigdelset(&all, fault);
    }
    ::pthread_sigmask(SIG_SETMASK, &all, &before);
    struct restore
    {
        const sigset_t& mask;
        ~restore() { ::pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
    } restore_on_exit{before};
    std::thread thread(std::forward<F>(fn));
    (void)::pthread_setname_np(thread.native_handle(), name); // only a label: failure is harmless
    return thread;
}

/// The calling thread's signal mask.
[[nodiscard]] inline sigset_t current_signal_mask() noexcept
{
    sigset_t mask;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    return mask;
}

} // namespace weft::detail
