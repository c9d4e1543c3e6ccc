#pragma once
// Everything in runtime/: the event loop, tasks, timers, I/O and coroutine-level sync.

#include "runtime/errors.hpp"
#include "runtime/event_loop.hpp"
#include "runtime/fs/fs.hpp"
#include "runtime/net/net.hpp"
#include "runtime/sleep.hpp"
#include "runtime/sync/sync.hpp"
#include "runtime/task.hpp"
#include "runtime/task_group.hpp"
#include "runtime/when_all.hpp"
#include "runtime/when_any.hpp"
#include "runtime/with_timeout.hpp"
#include "runtime/yield.hpp"
