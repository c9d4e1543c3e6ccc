#pragma once
// Everything in executors/: futures, the thread pool and Python's threading primitives.

#include "executors/as_completed.hpp"
#include "executors/callback_error_handler.hpp"
#include "executors/channels/channels.hpp"
#include "executors/errors.hpp"
#include "executors/future.hpp"
#include "executors/interprocess/interprocess.hpp"
#include "executors/manager/manager.hpp"
#include "executors/map_options.hpp"
#include "executors/process_cpu_count.hpp"
#include "executors/processes/processes.hpp"
#include "executors/promise.hpp"
#include "executors/shared/shared.hpp"
#include "executors/thread_pool_executor.hpp"
#include "executors/threads/threads.hpp"
#include "executors/wait.hpp"
