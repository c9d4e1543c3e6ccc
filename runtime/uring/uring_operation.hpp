#pragma once
// CRTP base of every awaitable that is one io_uring submission. The derived op supplies
//   void prepare(io_uring_sqe& sqe)      fill the SQE (opcode, fd, buffers)
//   R    complete(int res)               turn the CQE result into the await's value or throw
// and may supply
//   static void discard_result(int res) noexcept   release what a result nobody received owns
//                                                  (the descriptor of accept or openat)
//   void on_cqe(int& res) noexcept                 look at (and fix up) the result on arrival
// and this base owns the await protocol, user_data, the result, and cancellation: a stop
// request submits IORING_OP_ASYNC_CANCEL for this op, and the coroutine stays suspended until
// the kernel's CQE arrives, so buffers in the coroutine frame outlive the kernel's use of them.

#include <cerrno>
#include <coroutine>

#include <system_error>

#include "runtime/detail/cancellable.hpp"
#include "runtime/detail/io_request.hpp"
#include "runtime/event_loop.hpp"

namespace weft::uring
{

/// Throws std::system_error for a negative CQE result; returns it otherwise.
inline int check_result(int res, const char* operation)
{
    if (res < 0)
    {
        throw std::system_error(-res, std::system_category(), operation);
    }
    return res;
}

template <class Derived>
class uring_operation : private detail::io_request, private detail::cancellable
{
  public:
    uring_operation() noexcept { complete = &on_complete; }
    uring_operation(uring_operation&& other) noexcept : uring_operation() { (void)other; }
    // Only reached with the op still registered, or with a result never handed over, when
    // its frame is destroyed during loop teardown after the CQE came back: drop the stop
    // registration, and release what the result owns (a new descriptor must not leak).
    ~uring_operation()
    {
        if (m_stop)
        {
            m_stop.reset();
            m_loop->forget_cancel(*this);
        }
        if constexpr (requires { Derived::discard_result(0); })
        {
            if (m_delivered)
            {
                Derived::discard_result(m_result);
            }
        }
    }
    uring_operation(const uring_operation&) = delete;
    uring_operation& operator=(const uring_operation&) = delete;
    uring_operation& operator=(uring_operation&&) = delete;

    [[nodiscard]] bool await_ready() const noexcept { return false; }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting)
    {
        m_loop = &event_loop::require_current(Derived::operation_name);
        std::stop_token token = detail::stop_token_of(awaiting);
        if (token.stop_requested())
        {
            if (m_loop->is_own_token(token))
            {
                m_loop->observe_stop(); // see event_loop::observe_stop
            }
            m_result = -ECANCELED;
            m_cancel_requested = true;
            return false;
        }
        io_uring_sqe* sqe = m_loop->get_sqe();
        static_cast<Derived*>(this)->prepare(*sqe);
        io_uring_sqe_set_data(sqe, static_cast<detail::io_request*>(this));
        m_loop->note_submitted();
        m_awaiting = awaiting;
        // Registered after the SQE is queued: a stop that lands during registration calls
        // cancel() at once, and its cancel SQE then follows ours in the same batch.
        if (token.stop_possible())
        {
            m_stop.emplace(std::move(token), detail::cancel_callback{m_loop, this});
        }
        return true;
    }

    decltype(auto) await_resume()
    {
        m_delivered = false; // from here on the result is the awaiting task's
        if (m_stop)
        {
            m_stop.reset();
            m_loop->forget_cancel(*this);
        }
        if (m_cancel_requested && (m_result == -ECANCELED || m_result == -EINTR))
        {
            throw operation_cancelled();
        }
        return static_cast<Derived*>(this)->complete(m_result);
    }

  protected:
    /// The CQE flags of the completion (IORING_CQE_F_*), for ops that need them.
    [[nodiscard]] unsigned cqe_flags() const noexcept { return m_flags; }

  private:
    static void on_complete(detail::io_request& self, const io_uring_cqe& cqe) noexcept
    {
        auto& op = static_cast<uring_operation&>(self);
        op.m_result = cqe.res;
        op.m_flags = cqe.flags;
        op.m_delivered = true;
        if constexpr (requires(Derived & d, int& r) { d.on_cqe(r); })
        {
            static_cast<Derived&>(op).on_cqe(op.m_result);
        }
        op.m_loop->note_completed();
        op.m_loop->schedule(op.m_awaiting);
    }

    void cancel() noexcept override
    {
        if (m_cancel_requested)
        {
            return;
        }
        m_cancel_requested = true;
        io_uring_sqe* sqe = m_loop->get_sqe();
        io_uring_prep_cancel64(
            sqe, reinterpret_cast<std::uintptr_t>(static_cast<detail::io_request*>(this)), 0);
        io_uring_sqe_set_data64(sqe, 0);
    }

    event_loop* m_loop = nullptr;
    std::coroutine_handle<> m_awaiting;
    detail::stop_registration m_stop;
    int m_result = 0;
    unsigned m_flags = 0;
    bool m_cancel_requested = false;
    bool m_delivered = false; // the CQE arrived and await_resume has not taken its result yet
};

} // namespace weft::uring
