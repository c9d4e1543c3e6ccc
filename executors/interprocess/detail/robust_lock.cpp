#include "executors/interprocess/detail/robust_lock.hpp"

#include "runtime/sleep.hpp"
#include "runtime/uring/futex_wait_operation.hpp"

namespace weft::detail
{

task<interprocess::acquired> robust_lock::async_acquire()
{
    // Holds the segment for the whole wait, whatever happens to this handle meanwhile.
    const shared_ref<robust_mutex_state> state = m_state;
    bool woken = false;
    for (;;)
    {
        std::uint32_t seen = 0;
        const auto result = state->try_acquire_for_async(seen, woken);
        if (result.acquired)
        {
            co_return interprocess::acquired(true, result.owner_died);
        }
        try
        {
            if (uring::futex_wait_supported())
            {
                co_await uring::futex_wait_operation(state->futex_word(), seen);
            }
            else
            {
                co_await sleep_for(std::chrono::milliseconds(1));
            }
        }
        catch (...)
        {
            state->abandon_async_wait(); // a wake-up meant for us goes to another sleeper
            throw;
        }
        woken = true;
    }
}

} // namespace weft::detail
