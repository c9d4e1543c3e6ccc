#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include "executors/processes/detail/pool_task.hpp"
#include "executors/processes/detail/pool_worker.hpp"
#include "executors/processes/shippable.hpp"

namespace weft
{

/// A call every worker of a process pool makes once, before its first task: Python's
/// `initializer` and `initargs` in one value, `{.initializer = weft::worker_initializer(init,
/// getpid())}`. The target and arguments are shippable, as for submit(); the arguments are
/// serialized here, once, and the result (if any) is ignored.
///
/// When it throws, the pool is broken: every pending and later future fails with
/// broken_executor_error naming the exception, and no worker is restarted (Python's Pool
/// restarts failing workers forever).
class worker_initializer
{
  public:
    /// No initializer.
    worker_initializer() = default;

    template <class F, class... Args>
    explicit worker_initializer(F fn, Args&&... args)
    {
        using fn_type = std::decay_t<F>;
        static_assert(detail::check_shippable_function<fn_type>());
        static_assert((detail::check_shippable_argument<std::decay_t<Args>>() && ...));
        static_assert(std::is_invocable_v<fn_type, std::decay_t<Args>&&...>,
                      "weft::worker_initializer: the initializer cannot be called with these "
                      "arguments");
        using R = std::decay_t<std::invoke_result_t<fn_type, std::decay_t<Args>&&...>>;
        if constexpr (!std::is_void_v<R>)
        {
            static_assert(detail::check_shippable_argument<R>());
        }
        detail::encode_pool_task<fn_type, R, std::decay_t<Args>...>(
            m_message, m_attached, detail::initializer_task_id, static_cast<fn_type>(fn), args...);
    }

    [[nodiscard]] bool empty() const noexcept { return m_message.empty(); }
    /// The encoded task message (for the pool).
    [[nodiscard]] const std::string& message() const noexcept { return m_message; }
    /// The shared memory its arguments refer to (sent to every worker with it).
    [[nodiscard]] const detail::attachments& attached() const noexcept { return m_attached; }

  private:
    std::string m_message;
    detail::attachments m_attached;
};

} // namespace weft
