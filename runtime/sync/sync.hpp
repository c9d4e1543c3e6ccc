#pragma once
// Umbrella for runtime/sync/: included by runtime/runtime.hpp. Coroutine-level synchronisation
// for tasks of one event_loop (asyncio's Lock, Event, Semaphore, Condition, Queue and
// threading's Barrier); none of them is thread-safe.

#include "runtime/sync/async_barrier.hpp"
#include "runtime/sync/async_condition.hpp"
#include "runtime/sync/async_event.hpp"
#include "runtime/sync/async_mutex.hpp"
#include "runtime/sync/async_queue.hpp"
#include "runtime/sync/async_semaphore.hpp"
