#pragma once
// What the weft::process tests share: the names they use unqualified, their checks and the
// targets they start.

#include <chrono>
#include <weft/weft.hpp>

#include "support/process_checks.hpp"
#include "support/process_targets.hpp"
#include "support/scratch_file.hpp"

using namespace std::chrono_literals;
using weft::process;
using weft::start_method;
using weft::testing::all_methods;
using weft::testing::exit_of;
using weft::testing::exit_with;
using weft::testing::scratch_file;
using weft::testing::sleep_ms;
