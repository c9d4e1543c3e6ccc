#pragma once
// Targets that read every shared value of a many_values: sum_values, and nap_then_sum, which
// sleeps first, so that what is submitted after it queues behind it in its worker (the pool
// times it short while it does not sleep).

#include <chrono>
#include <thread>
#include <utility>

#include "support/many_values.hpp"

namespace weft::testing
{

inline int sum_values(many_values many)
{
    int sum = 0;
    for (const auto& v : many.values)
    {
        sum += v.get();
    }
    return sum;
}

inline int nap_then_sum(int milliseconds, many_values many)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
    return sum_values(std::move(many));
}

} // namespace weft::testing
