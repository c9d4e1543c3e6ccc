#pragma once
// IORING_OP_FUTEX_WAIT (Linux 6.7): an awaitable FUTEX_WAIT, for the awaitable forms of the
// cross-process primitives (executors/interprocess/), whose words live in shared memory.
//
// Debian 12's liburing 2.3 and kernel headers predate the opcode, so its number is defined
// here and the SQE is filled by hand exactly as liburing 2.5's io_uring_prep_futex_wait()
// does. The wait is on a SHARED futex (no FUTEX2_PRIVATE): the waker may be another process,
// with the word mapped elsewhere, and a private wait would never meet its wake-up.
//
// Kernels without the opcode fail the SQE with -EINVAL; futex_wait_supported() tells before
// trying, so that a caller can fall back to a blocking wait on a helper thread.

#include <atomic>
#include <cerrno>
#include <cstdint>

#include <liburing.h>
#include <linux/futex.h>

#include "runtime/uring/uring_operation.hpp"

namespace weft::uring
{

/// The opcode (enum io_uring_op, Linux 6.7), and the futex2 flag of a 32-bit futex.
inline constexpr std::uint8_t ioring_op_futex_wait = 51;
inline constexpr std::uint32_t futex2_size_u32 = 0x02;

/// True when this kernel's io_uring has IORING_OP_FUTEX_WAIT. Probed once per process (a
/// throwaway ring), then cached.
inline bool futex_wait_supported() noexcept
{
    static const bool supported = []
    {
        io_uring_probe* probe = io_uring_get_probe();
        if (probe == nullptr)
        {
            return false;
        }
        const bool has = io_uring_opcode_supported(probe, ioring_op_futex_wait) != 0;
        io_uring_free_probe(probe);
        return has;
    }();
    return supported;
}

/// Sleeps until a FUTEX_WAKE on `word` (from any process, any mapping), as FUTEX_WAIT: returns
/// at once when `word` no longer holds `expected`. Returns normally in both cases (the caller
/// re-checks the word: a wake-up may also be spurious). Throws std::system_error on failure
/// (EINVAL: the kernel lacks the opcode, see futex_wait_supported()), operation_cancelled when
/// the awaiting task is stopped first. `word` must outlive the await.
class futex_wait_operation : public uring_operation<futex_wait_operation>
{
  public:
    static constexpr const char* operation_name = "futex_wait";

    futex_wait_operation(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept
        : m_word(&word), m_expected(expected)
    {
    }

  private:
    friend class uring_operation<futex_wait_operation>;

    void prepare(io_uring_sqe& sqe) noexcept
    {
        // liburing 2.5: io_uring_prep_rw(IORING_OP_FUTEX_WAIT, sqe, futex_flags, uaddr, 0, val);
        // sqe->futex_flags = 0 (the op's flags: none defined); sqe->addr3 = mask.
        io_uring_prep_rw(ioring_op_futex_wait, &sqe, static_cast<int>(futex2_size_u32), m_word, 0,
                         m_expected);
        sqe.rw_flags = 0;
        sqe.addr3 = FUTEX_BITSET_MATCH_ANY;
    }

    void complete(int res)
    {
        if (res == -EAGAIN)
        {
            return; // the word had changed already
        }
        (void)check_result(res, operation_name);
    }

    std::atomic<std::uint32_t>* m_word;
    std::uint32_t m_expected;
};

} // namespace weft::uring
