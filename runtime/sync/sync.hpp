#pragma once
// Umbrella for runtime/sync/: included by runtime/runtime.hpp.
