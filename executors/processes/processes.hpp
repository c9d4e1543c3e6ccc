#pragma once
// Everything in executors/processes/: processes, start methods and what can be sent to them.

#include "executors/processes/main_guard.hpp"
#include "executors/processes/pool.hpp"
#include "executors/processes/pool_terminated_error.hpp"
#include "executors/processes/process.hpp"
#include "executors/processes/process_pool_executor.hpp"
#include "executors/processes/remote_backtrace.hpp"
#include "executors/processes/remote_error.hpp"
#include "executors/processes/remote_error_as.hpp"
#include "executors/processes/remote_exception.hpp"
#include "executors/processes/shippable.hpp"
#include "executors/processes/start_method.hpp"
#include "executors/processes/worker_died_error.hpp"
#include "executors/processes/worker_initializer.hpp"
