#pragma once
// Memory shared between processes: shared_value and shared_array (Python's Value and Array),
// shared_memory (Python's SharedMemory: bytes under a name in /dev/shm).

#include "executors/shared/shared_array.hpp"
#include "executors/shared/shared_memory.hpp"
#include "executors/shared/shared_options.hpp"
#include "executors/shared/shared_value.hpp"
