#pragma once
// What the process_pool_executor tests share: the names they use unqualified, and the calls
// they submit most.

#include <chrono>
#include <weft/weft.hpp>

#include "executors/processes/pool_test_support.hpp"
#include "support/process_targets.hpp"
#include "support/square.hpp"

using namespace std::chrono_literals;
using weft::future;
using weft::process_pool_executor;
using weft::start_method;
using weft::test::all_methods;
using weft::test::patience;
using weft::testing::square;
