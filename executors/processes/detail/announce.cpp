#include "executors/processes/detail/announce.hpp"

#include <cerrno>
#include <stdexcept>
#include <string>

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
        try
        {
            const std::size_t datagrams = attachment_datagrams(attached);
            if (datagrams > 1 && !idle)
            {
                return announce_outcome::not_idle;
            }
            const std::size_t went = send_attachments_while_room(socket, id, attached);
            if (went == datagrams)
            {
                return announce_outcome::sent;
            }
            if (!idle)
            {
                return announce_outcome::full;
            }
            // A worker that holds no task reads nothing more from its socket: waiting for room
            // would be for ever.
            if (went == 0)
            {
                // What fills it are datagrams it never took (a several-datagram send that
                // failed part way, whose message never went).
                error = std::make_exception_ptr(std::system_error(
                    ENOBUFS, std::system_category(),
                    subject(worker, id) + " (its socket is full of descriptors it did not take)"));
                return announce_outcome::failed;
            }
            error = std::make_exception_ptr(std::system_error(
                EMSGSIZE, std::system_category(),
                subject(worker, id) + ": " + std::to_string(attached.fds().size()) +
                    " descriptors are more than its socket holds at once (" + std::to_string(went) +
                    " of " + std::to_string(datagrams) +
                    " datagrams of 250 went; pass fewer shared objects per task, such as one "
                    "shared_array instead of many shared_values)"));
            return announce_outcome::failed_part_sent;
        }
        catch (const std::system_error& e)
        {
            const int code = e.code().value();
            error = std::make_exception_ptr(
                std::system_error(code, std::system_category(), subject(worker, id)));
            return code == EPIPE || code == ECONNRESET || code == ENOTCONN
                       ? announce_outcome::worker_gone
                       : announce_outcome::failed;
        }
    }
    catch (...)
    {
        error = std::current_exception(); // std::bad_alloc from building the message
        return announce_outcome::failed;
    }
}

} // namespace weft::detail
