#pragma once
// Umbrella for runtime/net/: included by runtime/runtime.hpp.
