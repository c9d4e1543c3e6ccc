#pragma once

namespace weft
{

/// How shared_value and shared_array are made: with a lock of their own (Python's Value and
/// Array, the default) or without one (RawValue and RawArray).
struct shared_options
{
    /// false: no lock; get() and set() are then plain accesses and get_lock() throws.
    bool lock = true;
};

} // namespace weft
