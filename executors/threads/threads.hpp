#pragma once
// Python's threading module for OS threads: every blocking call has a timeout form, and one
// timeout rule holds throughout: no timeout or a negative one waits forever, zero polls once,
// a positive one is measured on std::chrono::steady_clock. Wrong-state calls (releasing an
// unlocked lock, a non-owner releasing an rlock, waiting on a condition without its lock,
// starting a thread twice) throw weft::invalid_state_error; bad arguments (a negative
// semaphore value, parties < 1, a timeout on a non-blocking acquire) throw
// std::invalid_argument; a timeout is a false return, as in Python.

#include "executors/threads/barrier.hpp"
#include "executors/threads/bounded_semaphore.hpp"
#include "executors/threads/condition.hpp"
#include "executors/threads/event.hpp"
#include "executors/threads/lock.hpp"
#include "executors/threads/rlock.hpp"
#include "executors/threads/semaphore.hpp"
#include "executors/threads/thread.hpp"
#include "executors/threads/timer.hpp"
