#pragma once

#include <string>

namespace weft
{

/// How shared_value and shared_array are made: with a lock of their own (Python's Value and
/// Array, the default) or without one (RawValue and RawArray); anonymous (the default) or
/// under a name in /dev/shm.
struct shared_options
{
    /// false: no lock; get() and set() are then plain accesses and get_lock() throws.
    bool lock = true;
    /// Non-empty: the memory is also called `name` ("x" or "/x") in /dev/shm, so that processes
    /// that share no parent can open() it. This process owns the name and removes it exactly
    /// once, when its last handle goes (or, if it is killed, its name keeper does): see
    /// shared_memory. Creating a name that is taken throws std::system_error (file_exists).
    std::string name{};
};

} // namespace weft
