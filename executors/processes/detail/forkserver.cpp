#include "executors/processes/detail/forkserver.hpp"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <signal.h>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <sys/socket.h>

#include "executors/processes/detail/child_main.hpp"
#include "executors/processes/detail/launch.hpp"
#include "executors/processes/detail/payload.hpp"
#include "executors/processes/detail/raw_clone.hpp"

namespace weft::detail
{
namespace
{

// A test's tid_field_lookup for the fork servers a program starts.
constexpr const char* tid_lookup_env = "WEFT_FORKSERVER_TID_LOOKUP";

// The lookup a test asked for (set_forkserver_tid_lookup_for_testing), else any.
tid_field_lookup requested_tid_lookup() noexcept
{
    const char* text = std::getenv(tid_lookup_env);
    const std::string_view how = text != nullptr ? text : "";
    ::unsetenv(tid_lookup_env); // not the children's business
    return how == "without_prctl" ? tid_field_lookup::without_prctl
           : how == "none"        ? tid_field_lookup::none
                                  : tid_field_lookup::any;
}

} // namespace

void set_forkserver_tid_lookup_for_testing(tid_field_lookup how)
{
    if (how == tid_field_lookup::any)
    {
        ::unsetenv(tid_lookup_env);
        return;
    }
    ::setenv(tid_lookup_env, how == tid_field_lookup::none ? "none" : "without_prctl", 1);
}

// Each child is forked with CLONE_PARENT, so that it belongs to the program that asked for it
// (which reaps it through a pidfd). A plain fork() would set the cached TID but make the child
// the server's, whose exit status the program could not collect; so when the server cannot find
// glibc's TID field it forks nothing and replies no_tid_field_reply.
void run_forkserver(int socket, pid_t parent)
{
    die_with_parent(parent);
    // The terminal's Ctrl-C reaches the whole process group: it is the program's to handle, and
    // the server must survive it to serve the pool's replacement workers afterwards (it was
    // spawned with SIGINT ignored already; this keeps it so for a server started otherwise).
    (void)::signal(SIGINT, SIG_IGN);
    const glibc_thread_identity identity =
        glibc_thread_identity::of_this_thread(requested_tid_lookup());
    for (;;)
    {
        std::uint32_t magic = 0;
        iovec io{&magic, sizeof magic};
        // The payload first, then the descriptors the child inherits (inherited_fds()).
        constexpr std::size_t most = 1 + max_extra_fds;
        alignas(cmsghdr) char control[CMSG_SPACE(most * sizeof(int))] = {};
        msghdr message{};
        message.msg_iov = &io;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n <= 0)
        {
            std::_Exit(0); // the program closed its end or is gone
        }
        int fds[most];
        std::size_t count = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c))
        {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            {
                const std::size_t here = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (std::size_t i = 0; i < here && count < most; ++i)
                {
                    std::memcpy(&fds[count++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                }
            }
        }
        const int payload = count > 0 ? fds[0] : -1;
        std::int64_t reply = -EPROTO;
        if (identity.tid_field == nullptr)
        {
            reply = no_tid_field_reply;
        }
        else if (payload >= 0 && magic == payload_header::magic_value)
        {
            // CLONE_CHILD_SETTID: the kernel writes the child's TID into glibc's thread block,
            // as glibc's own fork does (robust mutexes store it, see adopt_in_child()).
            const long pid = raw_clone_parent(identity.tid_field);
            if (pid == 0)
            {
                identity.adopt_in_child();
                ::close(socket);
                set_inherited_fds(std::vector<int>(fds + 1, fds + count));
                run_payload_and_exit(payload, parent, true);
            }
            reply = pid > 0 ? pid : -errno;
        }
        for (std::size_t i = 0; i < count; ++i)
        {
            ::close(fds[i]);
        }
        if (::send(socket, &reply, sizeof reply, MSG_NOSIGNAL) != sizeof reply)
        {
            std::_Exit(0);
        }
    }
}

} // namespace weft::detail
