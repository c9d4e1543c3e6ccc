#include "runtime/uring/owned_fd.hpp"

#include <unistd.h>

namespace weft::uring
{

void owned_fd::reset() noexcept
{
    if (m_fd >= 0)
    {
        ::close(std::exchange(m_fd, -1));
    }
}

} // namespace weft::uring
