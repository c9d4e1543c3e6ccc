#pragma once
// Umbrella for runtime/fs/: included by runtime/runtime.hpp.

#include "runtime/fs/file.hpp"
