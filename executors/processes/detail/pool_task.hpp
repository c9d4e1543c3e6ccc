#pragma once
// A task of the process pool: how it is written into a worker's ring, run there, and how its
// outcome comes back and completes the caller's future.
//
// Messages, all little-endian, each framed by its length so that the rings can carry them in
// pieces:
//   task:   [u32 length][u64 id][u32 code length][code: entry, target, has_target][arguments]
//   chunk:  [u32 length][u64 id][u32 code length][code][u32 count][arguments] x count
//   result: [u32 length][u64 id][u8 outcome_kind][u64 run ns][value, or exception type name
//           + what()] (a chunk's value: [u32 count][value] x count; run ns: how long the
//           worker took to run it, for the pool's dispatch depth)
//   stop:   [u32 8][u64 0]
// A task's id has its top bit (carries_descriptors) up in the message when shared memory
// descriptors went ahead of it over the worker's socket: a worker whose decoding stops before
// it fetched them drops them, so that they do not fill the socket.
// The top byte of a task's id in the ring is also its claim: before it reads past that byte the
// worker sets claimed_by_worker, unless the pool set taken_back first (both by compare and
// swap), and a message taken back is skipped. That is how the pool takes back tasks that wait
// behind a long one while another worker idles (pool_core_rebalancing.cpp).
// `code` names the trampoline and the target by module and offset (code_address.hpp); its
// bytes are computed once per trampoline and target and the worker caches what they resolve
// to, so that a task costs no symbol lookup on either side.

#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "executors/detail/future_state.hpp"
#include "executors/processes/detail/code_address.hpp"
#include "executors/processes/detail/message_bytes.hpp"
#include "executors/processes/detail/wire.hpp"
#include "executors/shared/detail/attachments.hpp"

namespace weft::detail
{

/// Runs a task in the worker: loads the arguments from `args` (the message after the code),
/// calls the target (`target` is its address for a function pointer), and appends the
/// serialized result to `out`. Throws whatever the target throws.
using pool_trampoline = void (*)(std::uintptr_t target, std::string_view args, std::string& out);

enum class outcome_kind : std::uint8_t
{
    value = 0,
    exception = 1,
};

inline constexpr std::size_t task_prefix_size = 4 + 8;           // length, id
inline constexpr std::size_t result_prefix_size = 4 + 8 + 1 + 8; // length, id, kind, run ns
inline constexpr std::size_t result_kind_at = 4 + 8;
inline constexpr std::size_t result_run_ns_at = 4 + 8 + 1;
// Flags in a task message's id (never in a pool's own ids, which count up from 1).
inline constexpr std::uint64_t carries_descriptors = std::uint64_t{1} << 63;
inline constexpr std::uint64_t claimed_by_worker = std::uint64_t{1} << 62;
inline constexpr std::uint64_t taken_back = std::uint64_t{1} << 61;
inline constexpr std::uint64_t id_flags = std::uint64_t{0xFF} << 56;
// Where the claim (the id's top byte, little-endian) lies in a message, from its length on.
inline constexpr std::size_t claim_byte_at = 4 + 7;
// The two flags as bits of the claim byte.
inline constexpr auto claimed_bit = static_cast<unsigned char>(claimed_by_worker >> 56);
inline constexpr auto taken_back_bit = static_cast<unsigned char>(taken_back >> 56);
static_assert(std::endian::native == std::endian::little);

// Sets `mine` in a claim byte in the shared ring unless the other side set `theirs` first:
// exactly one of the pool (taking back) and the worker (claiming) wins a message.
inline bool win_claim(unsigned char& byte, unsigned char mine, unsigned char theirs) noexcept
{
    std::atomic_ref<unsigned char> claim(byte);
    unsigned char seen = claim.load(std::memory_order_seq_cst);
    while ((seen & theirs) == 0)
    {
        if (claim.compare_exchange_weak(seen, seen | mine, std::memory_order_seq_cst))
        {
            return true;
        }
    }
    return false;
}

/// Reads argument lists as they were written: plain bytes when every argument is trivially
/// copyable (no stream is built), cereal otherwise.
template <class... Args>
class argument_reader
{
    static constexpr bool raw = (bytewise_shippable<Args> && ...);

  public:
    explicit argument_reader(std::string_view bytes) : m_raw(bytes)
    {
        if constexpr (!raw)
        {
            m_wire.emplace(bytes);
        }
    }
    std::tuple<Args...> next()
    {
        // Braced initialisation loads the arguments in the order they were saved.
        if constexpr (raw)
        {
            return std::tuple<Args...>{m_raw.template take<Args>()...};
        }
        else
        {
            return std::tuple<Args...>{load_value<Args>(m_wire->archive())...};
        }
    }

  private:
    raw_reader m_raw;
    std::optional<wire_reader> m_wire;
};

template <class F, class R, class... Args>
decltype(auto) call_pool_target(std::uintptr_t target, std::tuple<Args...>&& args)
{
    if constexpr (std::is_pointer_v<F>)
    {
        return std::apply(reinterpret_cast<F>(target), std::move(args));
    }
    else
    {
        return std::apply(F{}, std::move(args));
    }
}

template <class F, class R, class... Args>
void run_pool_task(std::uintptr_t target, std::string_view in, std::string& out)
{
    argument_reader<Args...> reader(in);
    if constexpr (std::is_void_v<R>)
    {
        call_pool_target<F, R>(target, reader.next());
    }
    else
    {
        const R value = call_pool_target<F, R>(target, reader.next());
        lazy_wire_writer writer(out);
        save_value(writer, value);
    }
}

/// Whether a chunk of calls with these arguments and this result travels as fixed-size records
/// of plain bytes both ways (trivially copyable arguments; a trivially copyable or void result).
template <class R, class... Args>
inline constexpr bool bytewise_chunk = (bytewise_shippable<Args> && ...) &&
                                       (std::is_void_v<R> || bytewise_shippable<R>);

/// Bytes of one call's arguments in a bytewise chunk.
template <class... Args>
inline constexpr std::size_t bytewise_record = (sizeof(Args) + ... + std::size_t{0});

/// Loads a trivially copyable T from `from` and moves past it (no bounds check: the caller
/// checked the whole chunk once).
template <class T>
T take_raw(const char*& from) noexcept
{
    alignas(T) std::byte storage[sizeof(T)];
    std::memcpy(storage, from, sizeof(T));
    from += sizeof(T);
    return *std::launder(reinterpret_cast<T*>(storage));
}

/// A chunk of a map: runs the target on each of `count` argument lists, in order, and sends the
/// values back as one result. An exception from any call fails the whole chunk, as in Python.
template <class F, class R, class... Args>
void run_pool_chunk(std::uintptr_t target, std::string_view in, std::string& out)
{
    raw_reader head(in);
    const auto count = head.take<std::uint32_t>();
    append_raw(out, count);
    if constexpr (bytewise_chunk<R, Args...>)
    {
        // Fixed-size records: one bounds check and one resize per chunk, then plain loads and
        // stores (no stream, no per-value append), so a trivial target costs a few ns a call.
        const std::string_view args = head.rest();
        if (args.size() / bytewise_record<Args...> < count)
        {
            throw std::length_error("weft: a chunk ended before its arguments");
        }
        const char* from = args.data();
        [[maybe_unused]] char* to = nullptr;
        if constexpr (!std::is_void_v<R>)
        {
            const std::size_t at = out.size();
            out.resize(at + std::size_t{count} * sizeof(R));
            to = out.data() + at;
        }
        for (std::uint32_t i = 0; i < count; ++i)
        {
            // Braced initialisation loads the arguments in the order they were saved.
            std::tuple<Args...> call_args{take_raw<Args>(from)...};
            if constexpr (std::is_void_v<R>)
            {
                call_pool_target<F, R>(target, std::move(call_args));
            }
            else
            {
                const R value = call_pool_target<F, R>(target, std::move(call_args));
                std::memcpy(to, &value, sizeof(R));
                to += sizeof(R);
            }
        }
    }
    else
    {
        argument_reader<Args...> reader(head.rest());
        lazy_wire_writer writer(out);
        for (std::uint32_t i = 0; i < count; ++i)
        {
            if constexpr (std::is_void_v<R>)
            {
                call_pool_target<F, R>(target, reader.next());
            }
            else
            {
                const R value = call_pool_target<F, R>(target, reader.next());
                save_value(writer, value);
            }
        }
    }
}

/// Tags a pool_call whose outcome is the values of a chunk.
template <class R>
struct chunk_of
{
};

/// How the value of a pool call is decoded: one value, or a chunk's vector of them (`true` for
/// each call of a void function).
template <class T>
struct pool_outcome
{
    using value_type = T;
    static T decode(std::string_view body)
    {
        if constexpr (bytewise_shippable<T>)
        {
            return raw_reader(body).take<T>();
        }
        else
        {
            wire_reader reader(body);
            return load_value<T>(reader.archive());
        }
    }
};
template <class R>
struct pool_outcome<chunk_of<R>>
{
    using element_type = std::conditional_t<std::is_void_v<R>, bool, R>;
    using value_type = std::vector<element_type>;
    static value_type decode(std::string_view body)
    {
        raw_reader head(body);
        const auto count = head.take<std::uint32_t>();
        value_type values;
        if constexpr (std::is_void_v<R>)
        {
            values.assign(count, true);
        }
        else if constexpr (bytewise_shippable<R> && std::is_default_constructible_v<R>)
        {
            // One copy of the whole chunk.
            const std::string_view bytes = head.rest();
            if (bytes.size() < std::size_t{count} * sizeof(R))
            {
                throw std::length_error("weft: a chunk's result ended before its values");
            }
            values.resize(count);
            std::memcpy(static_cast<void*>(values.data()), bytes.data(),
                        std::size_t{count} * sizeof(R));
        }
        else
        {
            values.reserve(count);
            argument_reader<R> reader(head.rest());
            for (std::uint32_t i = 0; i < count; ++i)
            {
                values.push_back(std::get<0>(reader.next()));
            }
        }
        return values;
    }
};

/// The serialized (entry, target, has_target) of a trampoline and a target (0: a function
/// object), made once per pair (locate_code walks the loaded modules) and kept for the life of
/// the process at the same address.
struct pool_code
{
    std::uintptr_t entry = 0;
    std::uintptr_t target = 0;
    std::string bytes;
};
[[nodiscard]] const pool_code& pool_code_of(std::uintptr_t entry, std::uintptr_t target);

/// Writes the head of a task message for `entry` (a run_pool_task or run_pool_chunk
/// instantiation) and the target fn into `out` (a call's message_bytes, or the std::string of a
/// worker_initializer): length and id are filled in by seal_pool_task.
/// Returns the timing key of what the message runs (task_timings): the address of its cached
/// pool_code, one per trampoline and target for the life of the process, since the cache never
/// moves nor drops an entry. Never 0; the pool names a task's function from it. Hashing the
/// bytes instead cost each submit ~6 ns.
/// Room reserved after the head for the arguments, so that small ones are written without
/// growing the message.
inline constexpr std::size_t small_arguments = 64;

template <class F, class String>
std::uint64_t begin_pool_task(String& out, pool_trampoline entry, const F& fn)
{
    std::uintptr_t target = 0;
    if constexpr (std::is_pointer_v<F>)
    {
        target = reinterpret_cast<std::uintptr_t>(fn);
    }
    // The pair this instantiation sent last: a submit then costs one load, not the process-wide
    // lock and map walk (1.3-1.4 us of a 35-41 us cold round trip on one CPU, in probes).
    static std::atomic<const pool_code*> last{nullptr};
    const auto entry_address = reinterpret_cast<std::uintptr_t>(entry);
    const pool_code* found = last.load(std::memory_order_acquire);
    if (found == nullptr || found->entry != entry_address || found->target != target)
    {
        found = &pool_code_of(entry_address, target);
        last.store(found, std::memory_order_release);
    }
    const std::string& code = found->bytes;
    const auto code_size = static_cast<std::uint32_t>(code.size());
    // One allocation for the head and small arguments: resize then append allocated twice, a
    // tenth of a one-item map chunk's cost in the parent (4 allocations a chunk, now 3).
    out.reserve(task_prefix_size + 4 + code.size() + small_arguments);
    out.resize(task_prefix_size + 4);
    std::memcpy(out.data() + task_prefix_size, &code_size, sizeof code_size);
    out += code;
    return reinterpret_cast<std::uintptr_t>(found);
}

/// Fills in the length and the id of a message begun by begin_pool_task.
template <class String>
void seal_pool_task(String& out, std::uint64_t id) noexcept
{
    std::memcpy(out.data() + 4, &id, sizeof id);
    const auto length = static_cast<std::uint32_t>(out.size() - 4);
    std::memcpy(out.data(), &length, sizeof length);
}

/// Appends the task message for fn(args...) to `out`; the shared memory among the arguments
/// goes into `attached`. Returns its timing key (begin_pool_task).
template <class F, class R, class... Args, class String, class... As>
std::uint64_t encode_pool_task(String& out, attachments& attached, std::uint64_t id, const F& fn,
                               const As&... args)
{
    const std::uint64_t key = begin_pool_task(out, &run_pool_task<F, R, Args...>, fn);
    {
        attachment_scope scope(attached);
        lazy_wire_writer writer(out);
        (save_value<Args>(writer, args), ...);
    }
    seal_pool_task(out, id);
    return key;
}

/// What an exception thrown in the worker becomes here: the standard exception types weft
/// knows as themselves (a std::system_error with its code, when its category is a standard
/// one), a user type derived from one of them as weft::remote_error_as<that type>, anything
/// else as weft::remote_error.
[[nodiscard]] std::exception_ptr decode_remote_exception(std::string_view body) noexcept;

class pool_core;
class pool_call_base;

/// Counts a chunked map of `pool` in progress for as long as it lives: its consumer collects
/// the chunks it waits for itself, so the pool's collector thread does not spin for results
/// meanwhile (on two CPUs it would take one from the workers or the consumer).
class pool_map_presence
{
  public:
    explicit pool_map_presence(std::shared_ptr<pool_core> pool) noexcept;
    pool_map_presence(pool_map_presence&& other) noexcept : m_pool(std::move(other.m_pool)) {}
    pool_map_presence& operator=(pool_map_presence&&) = delete;
    pool_map_presence(const pool_map_presence&) = delete;
    pool_map_presence& operator=(const pool_map_presence&) = delete;
    ~pool_map_presence();

  private:
    std::shared_ptr<pool_core> m_pool;
};

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
    message_bytes message; // the encoded task, kept until the outcome arrives (a re-send needs it)
    attachments attached;  // the shared memory the message refers to, sent with it
    bool running = false;  // set_running_or_notify_cancel already succeeded
    int retries = 0;       // times re-sent after its worker died running it (max_retries)
    std::uint64_t timing_key = 0; // what it runs (begin_pool_task): timed per function
    std::uint32_t calls = 1;      // of the target it makes (a map's chunk: its count)
    // A map's chunk: the position of its first item in the map's input (named when its
    // worker dies); not_a_chunk otherwise.
    static constexpr std::uint64_t not_a_chunk = ~std::uint64_t{0};
    std::uint64_t first_item = not_a_chunk;
    // Where its message begins in the task ring of the worker it was last written to.
    std::uint64_t ring_at = 0;

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

    /// Once the outcome is in: a large message and the shared memory go now; a small message
    /// goes with the call, usually on the thread that submitted it and holds the future, which
    /// takes its next block from the same place. Freed here, on the collector, each would
    /// contend with that thread for the blocks (when they came from malloc, the submitting
    /// thread found its own cache empty on every call: BENCHMARKS.md "Messages freed where
    /// they were made").
    void release_message() noexcept
    {
        if (message.capacity() > kept_message_bytes)
        {
            message_bytes().swap(message);
        }
        attached.clear();
    }

  private:
    static constexpr std::size_t kept_message_bytes = 256;
};

/// R: the target's result, or chunk_of<R> for a chunk of a map (a future of the vector).
template <class R>
class pool_call final : public future_state<typename pool_outcome<R>::value_type>,
                        public pool_call_base
{
    using state = future_state<typename pool_outcome<R>::value_type>;

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
        release_message();
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
                this->set_value(pool_outcome<R>::decode(body));
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
        release_message();
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
            (void)state::cancel();
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
