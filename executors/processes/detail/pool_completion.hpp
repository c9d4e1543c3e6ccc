#pragma once
// A call the process pool has an outcome for, held until it is completed outside the pool's
// lock (completing runs the future's callbacks).

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "executors/processes/detail/pool_task.hpp"

namespace weft::detail
{

/// The worker that died running a call: the call fails with a worker_died_error made from it.
/// Made outside the pool's lock, since naming the function may load the symbol tables.
struct worker_death
{
    std::string what;        // "weft: process pool worker ... while running task N"
    std::uintptr_t function; // the target, named after `what` when the executable names it
    std::string items;       // " (items 40 to 49 of its map)", or ""
    pid_t pid;
    int exitcode;
    std::uint64_t task;
};

struct pool_completion
{
    std::shared_ptr<pool_call_base> call;
    outcome_kind kind = outcome_kind::value;
    std::string body;         // holds the outcome's bytes from body_at on
    std::exception_ptr error; // set: fail with this instead
    // Set: fail with the worker_died_error it describes (made by finish(), outside the lock).
    std::optional<worker_death> death = std::nullopt;
    std::size_t body_at = 0; // (a large outcome keeps the worker's whole inbox: no copy)

    [[nodiscard]] std::string_view outcome() const noexcept
    {
        return std::string_view(body).substr(body_at);
    }
};

} // namespace weft::detail
