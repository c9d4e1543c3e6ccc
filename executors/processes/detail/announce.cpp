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
            try
            {
                if (send_attachments(socket, id, attached, false))
                {
                    return announce_outcome::sent;
                }
                if (!idle)
                {
                    return announce_outcome::full;
                }
                // A worker that holds no task reads nothing more from its socket: what fills
                // it are datagrams it never took (a task whose decoding failed before it
                // fetched its shared memory). Waiting for room would be for ever.
                error = std::make_exception_ptr(std::system_error(
                    ENOBUFS, std::system_category(),
                    subject(worker, id) + " (its socket is full of descriptors it did not take)"));
                return announce_outcome::failed;
            }
            catch (const std::length_error&)
            {
                // More than one datagram (the only length_error of a send that does not wait).
                if (!idle)
                {
                    return announce_outcome::not_idle;
                }
            }
            (void)send_attachments(socket, id, attached);
            return announce_outcome::sent;
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
