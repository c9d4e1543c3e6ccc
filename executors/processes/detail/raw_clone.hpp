#pragma once
// A raw clone(2) for the fork server, and what it must then do by hand that glibc's fork()
// does: give the child its own cached thread id and its robust futex list.

#include <cstddef>

#include <sys/types.h>

#include "executors/processes/detail/launch.hpp"

namespace weft::detail
{

/// What glibc's fork() sets up in a child and a raw clone() does not: the TID cached in the
/// thread's control block (pthread mutexes store it in their futex word, so a robust or
/// error-checking mutex locked in the child would name the server's thread), and the thread's
/// robust futex list (which the kernel clears in a child: without it a child that dies holding
/// an interprocess lock would leave it held).
struct glibc_thread_identity
{
    pid_t* tid_field = nullptr; // glibc's TCB tid, the address it gave set_tid_address
    void* robust_head = nullptr;
    std::size_t robust_length = 0;

    /// The calling thread's, its TID field found the ways `how` allows (none found: null).
    static glibc_thread_identity of_this_thread(tid_field_lookup how) noexcept;

    /// In the child: the TID was written by the kernel (CLONE_CHILD_SETTID); registers the same
    /// robust list head (the same address in the copied memory).
    void adopt_in_child() const noexcept;
};

/// clone(CLONE_PARENT | SIGCHLD), with CLONE_CHILD_SETTID at `child_tid` unless it is null: the
/// child is this process's parent's child. Returns 0 in the child, the child's pid in the
/// caller, -1 with errno on failure.
long raw_clone_parent(pid_t* child_tid) noexcept;

} // namespace weft::detail
