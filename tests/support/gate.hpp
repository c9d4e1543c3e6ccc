#pragma once
// Test helper: holds the calls that pass() it until release(), so that a test can keep work
// running or queued while it looks at the executor.

#include <chrono>
#include <latch>
#include <thread>

namespace weft::testing
{

/// Blocks every task on it until release(); bounded (10 s) so that a failing test cannot hang.
struct gate
{
    std::latch open{1};
    void release() { open.count_down(); }
    void pass() const
    {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!open.try_wait() && std::chrono::steady_clock::now() < until)
        {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
};

} // namespace weft::testing
