#pragma once

#include <stdexcept>

namespace weft
{

/// The outcome of every task a process pool's terminate() orphaned: it was queued or running
/// when the workers were killed. (Python's Pool.terminate leaves such results pending forever.)
class pool_terminated_error : public std::runtime_error
{
  public:
    using std::runtime_error::runtime_error;
};

} // namespace weft
