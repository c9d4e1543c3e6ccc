#pragma once
// A call the process pool has an outcome for, held until it is completed outside the pool's
// lock (completing runs the future's callbacks).

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "executors/processes/detail/pool_task.hpp"

namespace weft::detail
{

struct pool_completion
{
    std::shared_ptr<pool_call_base> call;
    outcome_kind kind = outcome_kind::value;
    std::string body;         // holds the outcome's bytes from body_at on
    std::exception_ptr error; // set: fail with this instead
    std::size_t body_at = 0;  // (a large outcome keeps the worker's whole inbox: no copy)

    [[nodiscard]] std::string_view outcome() const noexcept
    {
        return std::string_view(body).substr(body_at);
    }
};

} // namespace weft::detail
