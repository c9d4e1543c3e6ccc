#pragma once
// A task of the process pool: how it is written into a worker's ring, run there, and how its
// outcome comes back and completes the caller's future.
//
// Messages, all little-endian, each framed by its length so that the rings can carry them in
// pieces:
//   task:   [u32 length][u64 id][u32 code length][code: entry, target, has_target][arguments]
//   result: [u32 length][u64 id][u8 outcome_kind][value, or exception type name + what()]
//   stop:   [u32 8][u64 0]
// `code` names the trampoline and the target by module and offset (code_address.hpp); its
// bytes are computed once per trampoline and target and the worker caches what they resolve
// to, so that a task costs no symbol lookup on either side.

#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "executors/detail/future_state.hpp"
#include "executors/processes/detail/code_address.hpp"
#include "executors/processes/detail/wire.hpp"

namespace weft::detail
{

/// Runs a task in the worker: loads the arguments from `args`, calls the target (`target` is
/// its address for a function pointer), and appends the serialized result to `out`. Throws
/// whatever the target throws.
using pool_trampoline = void (*)(std::uintptr_t target, cereal::BinaryInputArchive& args,
                                 std::string& out);

enum class outcome_kind : std::uint8_t
{
    value = 0,
    exception = 1,
};

inline constexpr std::size_t task_prefix_size = 4 + 8;       // length, id
inline constexpr std::size_t result_prefix_size = 4 + 8 + 1; // length, id, kind

template <class F, class R, class... Args>
void run_pool_task(std::uintptr_t target, cereal::BinaryInputArchive& in, std::string& out)
{
    // Braced initialisation loads the arguments in the order they were saved.
    std::tuple<Args...> args{load_value<Args>(in)...};
    auto call = [&]() -> decltype(auto)
    {
        if constexpr (std::is_pointer_v<F>)
        {
            return std::apply(reinterpret_cast<F>(target), std::move(args));
        }
        else
        {
            return std::apply(F{}, std::move(args));
        }
    };
    if constexpr (std::is_void_v<R>)
    {
        call();
    }
    else
    {
        const R value = call();
        wire_writer writer(out);
        save_value(writer.archive(), value);
    }
}

/// The serialized (entry, target, has_target) for a trampoline and a target (0: a function
/// object), computed once per pair: locate_code walks the loaded modules.
[[nodiscard]] const std::string& pool_code_bytes(std::uintptr_t entry, std::uintptr_t target);

/// Appends the task message for fn(args...) to `out`.
template <class F, class R, class... Args, class... As>
void encode_pool_task(std::string& out, std::uint64_t id, const F& fn, const As&... args)
{
    std::uintptr_t target = 0;
    if constexpr (std::is_pointer_v<F>)
    {
        target = reinterpret_cast<std::uintptr_t>(fn);
    }
    const std::string& code =
        pool_code_bytes(reinterpret_cast<std::uintptr_t>(&run_pool_task<F, R, Args...>), target);
    const auto code_size = static_cast<std::uint32_t>(code.size());
    out.resize(task_prefix_size + 4);
    std::memcpy(out.data() + 4, &id, sizeof id);
    std::memcpy(out.data() + task_prefix_size, &code_size, sizeof code_size);
    out += code;
    {
        wire_writer writer(out);
        (save_value<Args>(writer.archive(), args), ...);
    }
    const auto length = static_cast<std::uint32_t>(out.size() - 4);
    std::memcpy(out.data(), &length, sizeof length);
}

/// What an exception thrown in the worker becomes here: the standard exception types with a
/// message constructor as themselves, anything else as weft::remote_error.
[[nodiscard]] std::exception_ptr decode_remote_exception(std::string_view body) noexcept;

class pool_core;
class pool_call_base;

/// A thread blocked in result() on `call` collects the pool's results itself until `state`
/// is done or `until` passes (true), or returns false when it cannot help (the call is not on
/// a worker yet): it then blocks on the state as usual.
[[nodiscard]] bool pool_help_wait(pool_core& pool, const pool_call_base& call,
                                  const future_state_base& state,
                                  future_state_base::deadline until) noexcept;

/// The pool's side of a submitted task. The pool's queues hold it; the caller's future holds
/// the same object as its future_state (pool_call<R>), one allocation.
class pool_call_base
{
  public:
    std::uint64_t id = 0;
    // Kept alive by every call, so that a waiter can enter the pool whatever happens to the
    // executor meanwhile (the pool holds its queued calls: the cycle ends as each completes).
    std::shared_ptr<pool_core> pool;
    std::string message;  // the encoded task, kept until the outcome arrives (a re-send needs it)
    bool running = false; // set_running_or_notify_cancel already succeeded

    /// set_running_or_notify_cancel: false when the caller cancelled it first.
    virtual bool start() noexcept = 0;
    /// Completes the future with the outcome the worker sent.
    virtual void complete(outcome_kind kind, std::string_view body) noexcept = 0;
    virtual void fail(std::exception_ptr error) noexcept = 0;
    /// Cancels the future if it is still pending.
    virtual void cancel() noexcept = 0;

  protected:
    pool_call_base() = default;
    ~pool_call_base() = default;
};

template <class R>
class pool_call final : public future_state<R>, public pool_call_base
{
  public:
    bool start() noexcept override
    {
        try
        {
            return this->set_running_or_notify_cancel();
        }
        catch (...)
        {
            return false; // already finished by someone else
        }
    }

    void complete(outcome_kind kind, std::string_view body) noexcept override
    {
        std::string().swap(message);
        if (kind == outcome_kind::exception)
        {
            fail(decode_remote_exception(body));
            return;
        }
        std::exception_ptr error;
        try
        {
            if constexpr (std::is_void_v<R>)
            {
                this->set_value();
            }
            else
            {
                wire_reader reader(body);
                this->set_value(load_value<R>(reader.archive()));
            }
            return;
        }
        catch (const invalid_state_error&)
        {
            return; // finished already: nothing to report to
        }
        catch (...)
        {
            error = std::current_exception(); // the value could not be decoded
        }
        fail(error);
    }

    void fail(std::exception_ptr error) noexcept override
    {
        std::string().swap(message);
        try
        {
            this->set_exception(std::move(error));
        }
        catch (...)
        {
            // Finished or cancelled already.
        }
    }

    void cancel() noexcept override
    {
        try
        {
            (void)future_state<R>::cancel();
        }
        catch (...)
        {
        }
    }

  protected:
    bool help_wait(future_state_base::deadline until) const noexcept override
    {
        if (pool != nullptr && pool_help_wait(*pool, *this, *this, until))
        {
            return true;
        }
        (void)this->block(until);
        return true;
    }
};

} // namespace weft::detail
