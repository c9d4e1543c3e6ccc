#pragma once
// What a submission's user_data points at: the loop calls `complete` with the CQE. A request
// must stay alive until its CQE has been delivered (runtime/README.md, "lifetime").

#include <liburing.h>

namespace weft::detail
{

struct io_request
{
    using complete_fn = void (*)(io_request& self, const io_uring_cqe& cqe) noexcept;
    complete_fn complete = nullptr;
};

} // namespace weft::detail
