#include "executors/processes/detail/announce.hpp"

#include <cerrno>
#include <stdexcept>
#include <string>

#include <sys/resource.h>
#include <system_error>

#include "executors/processes/detail/pool_worker.hpp"

namespace weft::detail
{
namespace
{

std::string subject(pid_t worker, std::uint64_t id)
{
    std::string what = "weft: the shared memory descriptors of ";
    what += id == initializer_task_id ? "the worker initializer" : "task " + std::to_string(id);
    what += " could not be passed to ";
    what += worker > 0 ? "process pool worker " + std::to_string(worker)
                       : std::string("a new process pool worker");
    return what;
}

} // namespace

announce_outcome announce_attachments(int socket, pid_t worker, std::uint64_t id,
                                      const attachments& attached, bool idle,
                                      std::exception_ptr& error) noexcept
{
    if (attached.empty())
    {
        return announce_outcome::sent;
    }
    try
    {
        const std::size_t datagrams = attachment_datagrams(attached);
        if (datagrams > 1 && !idle)
        {
            return announce_outcome::not_idle;
        }
        const datagrams_sent sent = send_attachments_while_room(socket, id, attached);
        if (sent.went == datagrams)
        {
            return announce_outcome::sent;
        }
        const int code = sent.error;
        if (code == EPIPE || code == ECONNRESET || code == ENOTCONN)
        {
            error = std::make_exception_ptr(
                std::system_error(code, std::system_category(), subject(worker, id)));
            return announce_outcome::worker_gone;
        }
        if (!idle)
        {
            // One datagram, and nothing went. Both refusals pass as the worker reads: its socket
            // has room again (EAGAIN), and the descriptors it received no longer count against
            // this process's RLIMIT_NOFILE, which bounds those in flight (ETOOMANYREFS).
            if (code == EAGAIN)
            {
                return announce_outcome::full;
            }
            if (code == ETOOMANYREFS)
            {
                return announce_outcome::not_idle;
            }
        }
        // A worker that holds no task reads nothing more from its socket: waiting for it would
        // be for ever.
        std::string why;
        int reported = code;
        if (code == EAGAIN && sent.went == 0)
        {
            // What fills it are datagrams it never took (a several-datagram send that failed
            // part way, whose message never went).
            reported = ENOBUFS;
            why = " (its socket is full of descriptors it did not take)";
        }
        else if (code == EAGAIN)
        {
            reported = EMSGSIZE;
            why = ": " + std::to_string(attached.fds().size()) +
                  " descriptors are more than its socket holds at once (" +
                  std::to_string(sent.went) + " of " + std::to_string(datagrams) +
                  " datagrams of 250 went; pass fewer shared objects per task, such as one "
                  "shared_array instead of many shared_values)";
        }
        else if (code == ETOOMANYREFS)
        {
            rlimit files{};
            (void)::getrlimit(RLIMIT_NOFILE, &files);
            why = ": more descriptors are in flight, sent and not yet received, between this "
                  "user's processes than this process's RLIMIT_NOFILE (" +
                  std::to_string(files.rlim_cur) + ") allows";
        }
        error = std::make_exception_ptr(
            std::system_error(reported, std::system_category(), subject(worker, id) + why));
        // Datagrams that went before the socket filled would keep it full: the worker reads
        // nothing until a message comes. Those that went before another refusal leave room; the
        // worker drops them at its next receive (retiring it could need descriptors this process
        // may not have: a new worker's pidfd and sockets under the same RLIMIT_NOFILE).
        return code == EAGAIN && sent.went > 0 ? announce_outcome::failed_part_sent
                                               : announce_outcome::failed;
    }
    catch (...)
    {
        error = std::current_exception(); // std::bad_alloc from building the message
        return announce_outcome::failed;
    }
}

} // namespace weft::detail
