#pragma once
// What the thread_pool_executor tests share: the names they use unqualified, the gate that
// holds their tasks, and the call they submit.

#include <chrono>
#include <weft/weft.hpp>

#include "support/gate.hpp"
#include "support/square.hpp"

using namespace std::chrono_literals;
using weft::future;
using weft::thread_pool_executor;
using weft::testing::gate;
using weft::testing::square;
