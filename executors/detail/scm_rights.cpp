#include "executors/detail/scm_rights.hpp"

#include <cstring>
#include <stdexcept>

namespace weft::detail
{

void attach_descriptors(msghdr& message, std::span<char> control, std::span<const int> fds)
{
    const std::size_t bytes = fds.size() * sizeof(int);
    if (control.size() < CMSG_SPACE(bytes))
    {
        throw std::length_error("weft: more descriptors than their control buffer holds");
    }
    message.msg_control = control.data();
    message.msg_controllen = CMSG_SPACE(bytes);
    cmsghdr* c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(bytes);
    std::memcpy(CMSG_DATA(c), fds.data(), bytes);
}

} // namespace weft::detail
