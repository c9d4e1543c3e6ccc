#include "runtime/uring/ring.hpp"

#include <cerrno>
#include <fstream>
#include <string>

#include <sys/resource.h>
#include <system_error>

#include "runtime/errors.hpp"

namespace weft::uring
{
namespace
{

std::string read_sysctl_io_uring_disabled()
{
    std::ifstream in("/proc/sys/kernel/io_uring_disabled");
    std::string value;
    if (in >> value)
    {
        return value;
    }
    return {};
}

[[noreturn]] void throw_unavailable(int error_number)
{
    std::string why =
        "weft: cannot set up io_uring (" + std::generic_category().message(error_number) + "): ";
    switch (error_number)
    {
    case ENOSYS:
        why +=
            "the kernel has no io_uring (Linux 5.19 or newer is needed) or a seccomp filter "
            "(container runtime, systemd SystemCallFilter) blocks io_uring_setup; run on a newer "
            "kernel or allow the io_uring_* system calls";
        break;
    case EPERM:
    case EACCES:
    {
        const std::string disabled = read_sysctl_io_uring_disabled();
        if (disabled == "2")
        {
            why += "io_uring is switched off by sysctl kernel.io_uring_disabled=2; set it to 0 "
                   "(sysctl -w kernel.io_uring_disabled=0)";
        }
        else if (disabled == "1")
        {
            why += "sysctl kernel.io_uring_disabled=1 allows io_uring only to the group in "
                   "kernel.io_uring_group; add this user to it or set the sysctl to 0";
        }
        else
        {
            why += "the system call was refused (seccomp or an LSM policy); allow io_uring_setup "
                   "for this process";
        }
        break;
    }
    case ENOMEM:
    {
        rlimit limit{};
        getrlimit(RLIMIT_MEMLOCK, &limit);
        why += "the ring's memory could not be locked (RLIMIT_MEMLOCK is " +
               std::to_string(limit.rlim_cur) +
               " bytes; kernels before 5.12 charge rings to it); raise it with ulimit -l or "
               "limits.conf, or run a newer kernel";
        break;
    }
    case EMFILE:
    case ENFILE:
        why += "no file descriptor is free for the ring; close some or raise RLIMIT_NOFILE";
        break;
    default:
        why += "unexpected error from io_uring_setup";
        break;
    }
    throw uring_unavailable(error_number, why);
}

} // namespace

ring::ring(unsigned entries)
{
    io_uring_params params{};
    // COOP_TASKRUN: completions are run when we enter the kernel anyway, so skip the IPI the
    // kernel would otherwise send to interrupt us. SUBMIT_ALL: one bad SQE must not stop the
    // rest of the batch. Older kernels reject the flags; retry without them.
    params.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL;
    params.cq_entries = entries * 4;
    params.flags |= IORING_SETUP_CQSIZE;
    int rc = io_uring_queue_init_params(entries, &m_ring, &params);
    if (rc == -EINVAL)
    {
        params = io_uring_params{};
        rc = io_uring_queue_init_params(entries, &m_ring, &params);
    }
    if (rc < 0)
    {
        throw_unavailable(-rc);
    }
    if (!(params.features & IORING_FEAT_EXT_ARG) || !(params.features & IORING_FEAT_NODROP))
    {
        io_uring_queue_exit(&m_ring);
        throw uring_unavailable(ENOSYS, "weft: this kernel's io_uring lacks IORING_FEAT_EXT_ARG or "
                                        "IORING_FEAT_NODROP; Linux 5.11 or newer is needed");
    }
}

ring::~ring()
{
    io_uring_queue_exit(&m_ring);
}

io_uring_sqe* ring::get_sqe()
{
    io_uring_sqe* sqe = io_uring_get_sqe(&m_ring);
    while (sqe == nullptr)
    {
        const int rc = io_uring_submit(&m_ring);
        if (rc < 0 && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN)
        {
            throw std::system_error(-rc, std::system_category(), "io_uring_submit");
        }
        if (rc == -EBUSY || rc == -EAGAIN)
        {
            // The completion queue is backed up: make room by waiting for the kernel to flush
            // its overflow list, then try again.
            io_uring_get_events(&m_ring);
        }
        sqe = io_uring_get_sqe(&m_ring);
    }
    return sqe;
}

void ring::submit_and_wait(std::optional<std::chrono::nanoseconds> timeout)
{
    io_uring_cqe* cqe = nullptr;
    int rc = 0;
    if (timeout)
    {
        const auto ns = std::max<long long>(timeout->count(), 0);
        __kernel_timespec ts{};
        ts.tv_sec = ns / 1'000'000'000;
        ts.tv_nsec = ns % 1'000'000'000;
        rc = io_uring_submit_and_wait_timeout(&m_ring, &cqe, 1, &ts, nullptr);
    }
    else
    {
        rc = io_uring_submit_and_wait(&m_ring, 1);
    }
    if (rc < 0 && rc != -EINTR && rc != -ETIME && rc != -EBUSY && rc != -EAGAIN)
    {
        throw std::system_error(-rc, std::system_category(), "io_uring_enter");
    }
}

} // namespace weft::uring
