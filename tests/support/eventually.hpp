#pragma once
// Test helper: waits, bounded, for something another process does.

#include <chrono>
#include <thread>

namespace weft::testing
{

/// Polls `ready` every 5 ms until it holds (true) or `limit` passes (false).
template <class Predicate>
bool eventually(Predicate ready, std::chrono::milliseconds limit = std::chrono::seconds(10))
{
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (!ready())
    {
        if (std::chrono::steady_clock::now() > give_up)
        {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

} // namespace weft::testing
