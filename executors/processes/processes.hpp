#pragma once
// Everything in executors/processes/: processes, start methods and what can be sent to them.

#include "executors/processes/main_guard.hpp"
#include "executors/processes/process.hpp"
#include "executors/processes/shippable.hpp"
#include "executors/processes/start_method.hpp"
