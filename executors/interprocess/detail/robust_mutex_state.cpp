#include "executors/interprocess/detail/robust_mutex_state.hpp"

#include <cerrno>
#include <new>
#include <unistd.h>

#include <linux/futex.h>
#include <system_error>

#include "executors/detail/futex.hpp"
#include "executors/interprocess/detail/shared_futex.hpp"
#include "runtime/errors.hpp"

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace weft::detail
{

namespace
{

// glibc keeps the robust futex word in __data.__lock (an int) and the recursion count in
// __data.__count; both are part of its stable ABI for pthread_mutex_t.
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(int));
static_assert(alignof(std::atomic<std::uint32_t>) <= alignof(int));
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

void check(int rc, const char* what)
{
    if (rc != 0)
    {
        throw std::system_error(rc, std::system_category(), what);
    }
}

// pthread_mutex_clocklock is not intercepted by GCC 12's ThreadSanitizer, which would then see
// the unlock of a mutex it never saw locked; tell it by hand, as its own try-lock interceptor
// would.
int clocklock(pthread_mutex_t* mutex, const timespec& when)
{
#if defined(__SANITIZE_THREAD__)
    __tsan_mutex_pre_lock(mutex, __tsan_mutex_try_lock);
    const int rc = ::pthread_mutex_clocklock(mutex, CLOCK_MONOTONIC, &when);
    __tsan_mutex_post_lock(mutex,
                           rc == 0 || rc == EOWNERDEAD
                               ? __tsan_mutex_try_lock
                               : __tsan_mutex_try_lock | __tsan_mutex_try_lock_failed,
                           0);
    return rc;
#else
    return ::pthread_mutex_clocklock(mutex, CLOCK_MONOTONIC, &when);
#endif
}

// Python's Lock blocks its own holder until the timeout (only another thread could release it,
// and here only the holder may): sleep that long, on a word nobody wakes.
void sleep_until(std::optional<std::chrono::steady_clock::time_point> deadline) noexcept
{
    std::atomic<std::uint32_t> never{0};
    while (futex_wait(never, 0, deadline))
    {
    }
}

} // namespace

void robust_mutex_state::init(bool recursive)
{
    m_recursive = recursive ? 1 : 0;
    pthread_mutexattr_t attributes;
    check(::pthread_mutexattr_init(&attributes), "pthread_mutexattr_init");
    struct destroy_attributes
    {
        pthread_mutexattr_t* a;
        ~destroy_attributes() { ::pthread_mutexattr_destroy(a); }
    } destroy{&attributes};
    check(::pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED),
          "pthread_mutexattr_setpshared");
    check(::pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST),
          "pthread_mutexattr_setrobust");
    // Error-checking rather than normal for the non-recursive kind: a normal robust mutex
    // would let a non-owner's unlock through silently, and deadlock its owner's relock inside
    // glibc without a deadline.
    check(::pthread_mutexattr_settype(&attributes, recursive ? PTHREAD_MUTEX_RECURSIVE
                                                             : PTHREAD_MUTEX_ERRORCHECK),
          "pthread_mutexattr_settype");
    check(::pthread_mutex_init(&m_mutex, &attributes), "pthread_mutex_init");
}

robust_mutex_state::acquire_result
robust_mutex_state::acquire(std::optional<clock::time_point> deadline)
{
    int rc = 0;
    if (!deadline)
    {
        rc = ::pthread_mutex_lock(&m_mutex);
    }
    else if (clock::now() >= *deadline)
    {
        rc = ::pthread_mutex_trylock(&m_mutex);
    }
    else
    {
        rc = clocklock(&m_mutex, monotonic_timespec(*deadline));
    }
    return finish_acquire(rc, deadline);
}

robust_mutex_state::acquire_result
robust_mutex_state::finish_acquire(int rc, std::optional<clock::time_point> deadline)
{
    switch (rc)
    {
    case 0:
        return {true, false};
    case EOWNERDEAD:
        // We hold it; mark it consistent at once so that the lock keeps working whatever the
        // caller does with the news (an unlock without this makes it unrecoverable for good).
        check(::pthread_mutex_consistent(&m_mutex), "pthread_mutex_consistent");
        return {true, true};
    case EBUSY:
    case ETIMEDOUT:
        return {false, false};
    case EDEADLK:
        sleep_until(deadline);
        return {false, false};
    case ENOTRECOVERABLE:
        throw invalid_state_error(m_recursive != 0
                                      ? "weft: interprocess::rlock: lock is not recoverable"
                                      : "weft: interprocess::lock: lock is not recoverable");
    default:
        throw std::system_error(rc, std::system_category(), "pthread_mutex_lock");
    }
}

void robust_mutex_state::release()
{
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer reports an unlock by a non-holder as a bug even when the call only fails:
    // ask first there. Elsewhere that question costs a gettid() system call per release (most
    // of an uncontended acquire+release), and glibc answers it for free with EPERM, from the
    // TID it keeps per thread (right in forked and forkserver children too).
    if (!is_owned())
    {
        refuse_release();
    }
#endif
    const int rc = ::pthread_mutex_unlock(&m_mutex);
    if (rc == EPERM)
    {
        refuse_release();
    }
    check(rc, "pthread_mutex_unlock");
}

void robust_mutex_state::refuse_release() const
{
    if (m_recursive != 0)
    {
        throw invalid_state_error("weft: interprocess::rlock: cannot release un-acquired lock");
    }
    if (locked())
    {
        throw invalid_state_error(
            "weft: interprocess::lock: released by a thread that does not hold it");
    }
    throw invalid_state_error("weft: interprocess::lock: release unlocked lock");
}

std::atomic<std::uint32_t>& robust_mutex_state::futex_word() noexcept
{
    return *std::launder(reinterpret_cast<std::atomic<std::uint32_t>*>(&m_mutex.__data.__lock));
}

const std::atomic<std::uint32_t>& robust_mutex_state::futex_word() const noexcept
{
    return *std::launder(
        reinterpret_cast<const std::atomic<std::uint32_t>*>(&m_mutex.__data.__lock));
}

bool robust_mutex_state::locked() const noexcept
{
    return (futex_word().load(std::memory_order_acquire) & FUTEX_TID_MASK) != 0;
}

bool robust_mutex_state::is_owned() const noexcept
{
    // The TID, not pthread_self(): it is what the kernel and glibc store, and it differs
    // between a parent and its forked child, whose threads share a pthread_t value.
    return (futex_word().load(std::memory_order_relaxed) & FUTEX_TID_MASK) ==
           static_cast<std::uint32_t>(::gettid());
}

std::uint32_t robust_mutex_state::recursion_count() const noexcept
{
    // __count is written only by the holder, so the holder reads its own value.
    return is_owned() ? m_mutex.__data.__count : 0;
}

std::uint32_t robust_mutex_state::release_all()
{
    if (!is_owned())
    {
        refuse_release();
    }
    std::uint32_t count = 1;
    if (m_recursive != 0)
    {
        count = m_mutex.__data.__count;
        m_mutex.__data.__count = 1;
    }
    release();
    return count;
}

robust_mutex_state::acquire_result
robust_mutex_state::acquire_restore(std::uint32_t count, std::optional<clock::time_point> deadline)
{
    const acquire_result got = acquire(deadline);
    if (got.acquired && m_recursive != 0 && count > 0)
    {
        m_mutex.__data.__count = count;
    }
    return got;
}

void robust_mutex_state::restore_count(std::uint32_t count) noexcept
{
    // Added to what is there: the acquire that preceded may have been a recursive one (another
    // coroutine of the same thread holds the lock too), whose level must survive.
    if (m_recursive != 0 && count > 0 && is_owned())
    {
        m_mutex.__data.__count = m_mutex.__data.__count - 1 + count;
    }
}

robust_mutex_state::acquire_result robust_mutex_state::try_acquire_for_async(std::uint32_t& seen,
                                                                             bool woken)
{
    std::atomic<std::uint32_t>& word = futex_word();
    for (;;)
    {
        const int rc = ::pthread_mutex_trylock(&m_mutex);
        if (rc == 0 || rc == EOWNERDEAD)
        {
            if (woken)
            {
                word.fetch_or(FUTEX_WAITERS, std::memory_order_relaxed);
            }
            return finish_acquire(rc, clock::time_point{});
        }
        if (rc != EBUSY && rc != EDEADLK)
        {
            return finish_acquire(rc, clock::time_point{});
        }
        std::uint32_t value = word.load(std::memory_order_relaxed);
        while ((value & FUTEX_TID_MASK) != 0)
        {
            if ((value & FUTEX_WAITERS) != 0 ||
                word.compare_exchange_weak(value, value | FUTEX_WAITERS, std::memory_order_relaxed))
            {
                seen = value | FUTEX_WAITERS;
                return {false, false};
            }
        }
        // Released (or its holder died) between the trylock and now: try again.
    }
}

void robust_mutex_state::abandon_async_wait() noexcept
{
    shared_futex_wake(futex_word(), 1);
}

} // namespace weft::detail
