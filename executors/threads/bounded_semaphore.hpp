#pragma once

#include <cstddef>

#include "executors/threads/semaphore.hpp"

namespace weft
{

/// Python's threading.BoundedSemaphore: a semaphore whose value may never exceed its initial
/// value. A release() that would pass it throws weft::invalid_state_error("semaphore released
/// too many times") and adds nothing, which catches a release without a matching acquire.
/// Everything else is weft::semaphore (the check holds through a semaphore& too).
class bounded_semaphore : public semaphore
{
  public:
    /// A bounded semaphore holding, and capped at, `value` permits. Throws
    /// std::invalid_argument when `value` is negative.
    explicit bounded_semaphore(std::ptrdiff_t value = 1) : semaphore(value, true) {}

    /// Python's `with sem:` as a value.
    [[nodiscard]] detail::guard<bounded_semaphore> guard()
    {
        return detail::guard<bounded_semaphore>(*this);
    }
};

} // namespace weft
