#pragma once

#include "executors/interprocess/semaphore.hpp"

namespace weft::interprocess
{

/// Python's multiprocessing.BoundedSemaphore: a semaphore whose value may never pass its initial
/// one; over-release throws invalid_state_error("semaphore released too many times").
class bounded_semaphore : public semaphore
{
  public:
    explicit bounded_semaphore(std::ptrdiff_t value = 1) : semaphore(value, true) {}
    explicit bounded_semaphore(weft::detail::unloaded_t tag) noexcept : semaphore(tag) {}
};

} // namespace weft::interprocess
