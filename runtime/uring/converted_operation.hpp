#pragma once

#include <coroutine>
#include <utility>

namespace weft::uring
{

/// Awaits the op `Op` and passes its value through `convert`, so that, for example, accept can
/// yield a tcp_stream rather than a raw descriptor without a coroutine frame of its own. Forwards
/// the awaiting coroutine to the op, so cancellation and lifetime are the op's.
template <class Op, class Result>
class converted_operation
{
  public:
    using op_result = decltype(std::declval<Op&>().await_resume());
    using convert_fn = Result (*)(op_result);

    converted_operation(Op op, convert_fn convert) noexcept
        : m_op(std::move(op)), m_convert(convert)
    {
    }

    [[nodiscard]] bool await_ready() const noexcept { return false; }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting)
    {
        return m_op.await_suspend(awaiting);
    }

    Result await_resume() { return m_convert(m_op.await_resume()); }

  private:
    Op m_op;
    convert_fn m_convert;
};

} // namespace weft::uring
