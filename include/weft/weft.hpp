#pragma once
// The one header a weft user includes. Build with `pkg-config --cflags --libs weft`.

#include "executors/executors.hpp"
#include "runtime/runtime.hpp"
