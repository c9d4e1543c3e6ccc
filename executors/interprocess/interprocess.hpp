#pragma once
// Python's multiprocessing synchronization primitives, shared by processes (interprocess::lock,
// rlock, semaphore, bounded_semaphore, condition, event, barrier).

#include "executors/interprocess/acquired.hpp"
#include "executors/interprocess/barrier.hpp"
#include "executors/interprocess/bounded_semaphore.hpp"
#include "executors/interprocess/condition.hpp"
#include "executors/interprocess/event.hpp"
#include "executors/interprocess/guard.hpp"
#include "executors/interprocess/lock.hpp"
#include "executors/interprocess/rlock.hpp"
#include "executors/interprocess/semaphore.hpp"
