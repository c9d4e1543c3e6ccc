#pragma once
// What a spawned or forkserver child receives: a header naming the code to run (by module and
// offset, see code_address.hpp) followed by the target's arguments.

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <unistd.h>
#include <utility>

#include <sys/types.h>

#include "executors/processes/detail/code_address.hpp"
#include "executors/processes/detail/wire.hpp"
#include "executors/shared/detail/attachments.hpp"

namespace weft::detail
{

/// Runs a target in the child: `target` is the resolved function address (unused for a
/// function object); the arguments follow in `args`.
using trampoline = void (*)(std::uintptr_t target, cereal::BinaryInputArchive& args);

struct payload_header
{
    static constexpr std::uint32_t magic_value = 0x77656674; // "weft"
    std::uint32_t magic = magic_value;
    code_address entry;              // the trampoline
    code_address target;             // the function, for a function pointer target
    bool has_target = false;         // false: a function object the trampoline makes itself
    std::string name;                // current_process_name() in the child
    bool daemon = false;             // a daemon process may not start children
    std::int64_t parent_pid = 0;     // the child exits at once if its parent is already gone
    bool ignores_interrupts = false; // a pool worker: SIGINT is the parent's to handle

    template <class Archive>
    void serialize(Archive& archive)
    {
        archive(magic, entry, target, has_target, name, daemon, parent_pid, ignores_interrupts);
    }
};

template <class F, class... Args>
void run_shipped(std::uintptr_t target, cereal::BinaryInputArchive& in)
{
    // Braced initialisation evaluates left to right: arguments load in the order they were
    // saved.
    std::tuple<Args...> args{load_value<Args>(in)...};
    if constexpr (std::is_pointer_v<F>)
    {
        std::apply(reinterpret_cast<F>(target), std::move(args));
    }
    else
    {
        std::apply(F{}, std::move(args));
    }
}

/// Encodes `fn(args...)` for a child that runs the same executable. The shared memory among the
/// arguments goes into `attached` (its descriptors must reach the child as inherited_fds());
/// without it, such an argument throws std::logic_error. `ignores_interrupts`: the child is a
/// pool worker, which leaves SIGINT to its parent.
template <class F, class... Args>
std::string encode_call(const F& fn, const std::tuple<Args...>& args, const std::string& name,
                        bool daemon, attachments* attached = nullptr,
                        bool ignores_interrupts = false)
{
    std::optional<attachment_scope> scope;
    if (attached != nullptr)
    {
        scope.emplace(*attached);
    }
    payload_header header;
    header.entry = locate_code(reinterpret_cast<std::uintptr_t>(&run_shipped<F, Args...>));
    if constexpr (std::is_pointer_v<F>)
    {
        header.target = locate_code(reinterpret_cast<std::uintptr_t>(fn));
        header.has_target = true;
    }
    header.name = name;
    header.daemon = daemon;
    header.ignores_interrupts = ignores_interrupts;
    header.parent_pid = static_cast<std::int64_t>(::getpid());
    std::string out;
    {
        wire_writer writer(out);
        writer.archive()(header);
        std::apply([&writer](const auto&... arg) { (save_value(writer.archive(), arg), ...); },
                   args);
    }
    return out;
}

} // namespace weft::detail
