#pragma once
// Everything in executors/: futures, the thread pool and Python's threading primitives.

#include "executors/errors.hpp"
#include "executors/threads/threads.hpp"
