// forkserver_payload(): the program's side of the fork server (forkserver.hpp).
#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <pthread.h>
#include <signal.h>
#include <span>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <utility>

#include <sys/socket.h>
#include <sys/syscall.h>
#include <system_error>

#include "executors/detail/scm_rights.hpp"
#include "executors/processes/detail/child_environment.hpp"
#include "executors/processes/detail/child_registry.hpp"
#include "executors/processes/detail/forkserver.hpp"
#include "executors/processes/detail/launch.hpp"
#include "executors/processes/detail/launcher_thread.hpp"
#include "executors/processes/detail/payload.hpp"
#include "executors/processes/detail/spawn_self.hpp"
#include "runtime/uring/owned_fd.hpp"

namespace weft::detail
{
namespace
{

class forkserver_client;

std::mutex g_instance_mutex; // guards g_forkserver
forkserver_client* g_forkserver = nullptr;

// What a forked child stops using without destroying it (its mutex may be held by a thread
// the child does not have), kept reachable so that a leak checker at the child's exit is quiet.
forkserver_client* volatile g_left_behind = nullptr;

// The program's side of the fork server (forkserver.hpp): starts the server on first use,
// sends it one request per child, and stops it at exit.
class forkserver_client
{
  public:
    static forkserver_client& instance()
    {
        std::lock_guard lock(g_instance_mutex);
        if (g_forkserver == nullptr)
        {
            g_forkserver = new forkserver_client();
            // A child of the program's own fork() inherits this handler with no server
            // (forget_after_fork), or a server of its own, registered again.
            std::atexit(
                []
                {
                    if (g_forkserver != nullptr)
                    {
                        g_forkserver->stop();
                    }
                });
        }
        return *g_forkserver;
    }

    // A forked child must not talk to its parent's server (the server's children would be the
    // parent's) nor keep the server's socket open (the server would outlive the parent's
    // close): drop both, without the mutex, which may have been held at the fork.
    static void forget_after_fork() noexcept
    {
        // The instance mutex may have been held by another thread at the fork: a fresh one.
        new (&g_instance_mutex) std::mutex();
        if (g_forkserver != nullptr)
        {
            // The server's record stays with the client left behind: it is not this process's
            // child, and the registry that would reap it is forgotten too.
            g_forkserver->m_socket.reset();
            g_left_behind = g_forkserver;
            g_forkserver = nullptr;
        }
    }

    child_handle launch(const std::string& payload, std::span<const int> extra_fds)
    {
        if (extra_fds.size() > max_extra_fds)
        {
            throw std::invalid_argument("weft: too many descriptors for a child");
        }
        uring::owned_fd memfd = payload_memfd(payload);
        std::lock_guard lock(m_mutex);
        // A server that died (killed by someone) is replaced once.
        for (int attempt = 0;; ++attempt)
        {
            if (!m_socket.valid())
            {
                start();
            }
            std::int64_t reply = 0;
            if (request(memfd.get(), extra_fds, reply))
            {
                if (reply == no_tid_field_reply)
                {
                    throw std::system_error(
                        EOPNOTSUPP, std::system_category(),
                        "weft: start_method::forkserver cannot work here: the fork server cannot "
                        "find glibc's cached thread id to give its children their own (no "
                        "PR_GET_TID_ADDRESS, which needs a kernel with CONFIG_CHECKPOINT_RESTORE, "
                        "and no _thread_db_pthread_tid in glibc), so their locks would name the "
                        "server's thread; use start_method::spawn or start_method::fork");
                }
                if (reply < 0)
                {
                    throw std::system_error(static_cast<int>(-reply), std::system_category(),
                                            "weft: the fork server could not fork");
                }
                const auto pid = static_cast<pid_t>(reply);
                const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
                if (pidfd < 0)
                {
                    throw std::system_error(errno, std::system_category(), "weft: pidfd_open");
                }
                return child_handle{pid, uring::owned_fd(pidfd)};
            }
            stop();
            if (attempt == 1)
            {
                throw std::system_error(EPIPE, std::system_category(),
                                        "weft: the fork server is gone");
            }
        }
    }

  private:
    void start()
    {
        int ends[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0)
        {
            throw std::system_error(errno, std::system_category(), "weft: socketpair");
        }
        uring::owned_fd ours(ends[0]);
        uring::owned_fd theirs(ends[1]);
        start_reaper(); // before the server exists: it reaps the server if someone kills it
        child_handle server = on_long_lived_thread(
            [&]
            {
                return spawn_self(std::string(forkserver_env) + "=" + std::to_string(theirs.get()),
                                  theirs.get(), {}, true);
            });
        m_server = std::make_shared<child_record>(std::move(server), "weft-forkserver",
                                                  /*daemon=*/true, /*listed=*/false);
        register_child(m_server);
        m_socket = std::move(ours);
    }

    bool request(int memfd, std::span<const int> extra_fds, std::int64_t& reply)
    {
        std::uint32_t magic = payload_header::magic_value;
        iovec io{&magic, sizeof magic};
        constexpr std::size_t most = 1 + max_extra_fds;
        // The payload's memfd first, then the child's own descriptors (forkserver.hpp).
        int fds[most] = {};
        fds[0] = memfd;
        std::copy(extra_fds.begin(), extra_fds.end(), fds + 1);
        scm_rights_buffer<most> control;
        msghdr message{};
        message.msg_iov = &io;
        message.msg_iovlen = 1;
        attach_descriptors(message, control.bytes, std::span<const int>(fds, 1 + extra_fds.size()));
        ssize_t n = 0;
        do
        {
            n = ::sendmsg(m_socket.get(), &message, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n != sizeof magic)
        {
            return false;
        }
        do
        {
            n = ::recv(m_socket.get(), &reply, sizeof reply, 0);
        } while (n < 0 && errno == EINTR);
        return n == sizeof reply;
    }

    void stop() noexcept
    {
        m_socket.reset(); // the server sees end-of-file and exits
        if (m_server)
        {
            if (!m_server->wait_for_exit(2000))
            {
                m_server->signal(SIGKILL);
                (void)m_server->wait_for_exit(-1);
            }
            release_child(m_server);
            m_server.reset();
        }
    }

    std::mutex m_mutex;
    uring::owned_fd m_socket;
    std::shared_ptr<child_record> m_server; // reaped by the registry's thread if it dies
};

// Any fork, weft's or the program's own, runs this in the child.
const int g_atfork_registered =
    ::pthread_atfork(nullptr, nullptr, &forkserver_client::forget_after_fork);

} // namespace

child_handle forkserver_payload(const std::string& payload, std::span<const int> extra_fds)
{
    return forkserver_client::instance().launch(payload, extra_fds);
}

} // namespace weft::detail
