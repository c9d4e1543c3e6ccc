#include "executors/processes/detail/raw_clone.hpp"

#include <cstdint>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/syscall.h>

namespace weft::detail
{
namespace
{

// glibc describes its thread block to debuggers (libthread_db) with exported tables:
// _thread_db_pthread_tid is {size in bits, count, offset} of struct pthread's tid, and
// pthread_self() is the address of the calling thread's struct pthread. For a kernel without
// PR_GET_TID_ADDRESS (it needs CONFIG_CHECKPOINT_RESTORE).
pid_t* thread_db_tid_field() noexcept
{
    const auto* field =
        static_cast<const std::uint32_t*>(::dlsym(RTLD_DEFAULT, "_thread_db_pthread_tid"));
    if (field == nullptr || field[0] != 8 * sizeof(pid_t) || field[1] != 1)
    {
        return nullptr;
    }
    auto* address = reinterpret_cast<pid_t*>(reinterpret_cast<char*>(::pthread_self()) + field[2]);
    return *address == ::gettid() ? address : nullptr;
}

} // namespace

glibc_thread_identity glibc_thread_identity::of_this_thread(tid_field_lookup how) noexcept
{
    glibc_thread_identity identity;
    int* address = nullptr;
    if (how == tid_field_lookup::any && ::prctl(PR_GET_TID_ADDRESS, &address, 0, 0, 0) == 0 &&
        address != nullptr && *address == ::gettid())
    {
        identity.tid_field = address;
    }
    else if (how != tid_field_lookup::none)
    {
        identity.tid_field = thread_db_tid_field();
    }
    ::syscall(SYS_get_robust_list, 0, &identity.robust_head, &identity.robust_length);
    return identity;
}

void glibc_thread_identity::adopt_in_child() const noexcept
{
    if (tid_field != nullptr)
    {
        ::syscall(SYS_set_tid_address, tid_field);
    }
    if (robust_head != nullptr)
    {
        ::syscall(SYS_set_robust_list, robust_head, robust_length);
    }
}

long raw_clone_parent(pid_t* child_tid) noexcept
{
    const unsigned long flags =
        CLONE_PARENT | SIGCHLD | (child_tid != nullptr ? CLONE_CHILD_SETTID : 0UL);
    // The last two arguments (child TID pointer, TLS) come in another order on x86-64 than
    // elsewhere.
#if defined(__x86_64__)
    return ::syscall(SYS_clone, flags, 0, 0, child_tid, 0);
#else
    return ::syscall(SYS_clone, flags, 0, 0, 0, child_tid);
#endif
}

} // namespace weft::detail
