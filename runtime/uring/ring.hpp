#pragma once
// RAII owner of one io_uring instance. Only the event_loop touches it; everything else reaches
// the kernel through uring_operation.

#include <chrono>
#include <optional>

#include <liburing.h>

namespace weft::uring
{

class ring
{
  public:
    /// Sets up a ring with `entries` submission slots. Throws uring_unavailable naming the
    /// cause (no kernel support, seccomp, kernel.io_uring_disabled, RLIMIT_MEMLOCK) and the fix.
    explicit ring(unsigned entries);
    ~ring();
    ring(const ring&) = delete;
    ring& operator=(const ring&) = delete;

    /// A free submission slot, flushing queued submissions to the kernel when the queue is full.
    [[nodiscard]] io_uring_sqe* get_sqe();

    /// Submits what is queued and waits until at least one completion is ready or `timeout`
    /// (when given) elapses. EINTR and ETIME are not errors here.
    void submit_and_wait(std::optional<std::chrono::nanoseconds> timeout);

    /// Calls fn(cqe) for every ready completion and marks them seen; returns how many.
    template <class Fn>
    unsigned drain(Fn&& fn)
    {
        unsigned head = 0;
        unsigned seen = 0;
        io_uring_cqe* cqe = nullptr;
        io_uring_for_each_cqe(&m_ring, head, cqe)
        {
            fn(*cqe);
            ++seen;
        }
        io_uring_cq_advance(&m_ring, seen);
        return seen;
    }

    [[nodiscard]] io_uring* native() noexcept { return &m_ring; }

  private:
    io_uring m_ring{};
};

} // namespace weft::uring
