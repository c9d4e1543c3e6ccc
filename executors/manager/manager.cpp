#include "executors/manager/manager.hpp"

#include <array>
#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include <sys/random.h>

#include "executors/channels/pipe.hpp"
#include "executors/manager/detail/manager_server.hpp"

namespace weft
{
namespace
{

std::string random_bytes(std::size_t n)
{
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n)
    {
        const ssize_t r = ::getrandom(out.data() + got, n - got, 0);
        if (r > 0)
        {
            got += static_cast<std::size_t>(r);
        }
    }
    return out;
}

std::string hex(const std::string& bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const char c : bytes)
    {
        out += digits[(static_cast<unsigned char>(c) >> 4) & 0xf];
        out += digits[static_cast<unsigned char>(c) & 0xf];
    }
    return out;
}

} // namespace

manager::manager(options opts)
{
    static std::atomic<int> made{0};
    // An abstract name: nothing in the file system to clean up, gone with the socket.
    const std::string name = std::string(1, '\0') + "weft-manager-" + std::to_string(::getpid()) +
                             "-" + std::to_string(++made) + "-" + hex(random_bytes(8));
    m_endpoint.address = socket_address::unix_path(name);
    m_endpoint.authkey = random_bytes(32);
    auto [ready_reader, ready_writer] = pipe<int>(false);
    m_server.emplace(process::options{.name = "SyncManager-" + std::to_string(made.load()),
                                      .daemon = true,
                                      .start_method = opts.start_method},
                     &detail::manager_server_main, m_endpoint, ready_writer);
    m_server->start();
    ready_writer.close();
    if (!ready_reader.poll(std::chrono::seconds(10)))
    {
        shutdown();
        throw std::runtime_error("weft: manager: the server did not start within ten seconds");
    }
    try
    {
        (void)ready_reader.recv();
    }
    catch (const eof_error&)
    {
        shutdown();
        throw std::runtime_error("weft: manager: the server exited before it listened");
    }
}

manager::~manager()
{
    shutdown();
}

std::uint64_t manager::create(detail::manager_op op, std::string value)
{
    detail::manager_request request;
    request.op = op;
    request.value = std::move(value);
    return detail::manager_call(m_endpoint, request).number;
}

void manager::shutdown() noexcept
{
    if (!m_server)
    {
        return;
    }
    try
    {
        detail::manager_request request;
        request.op = detail::manager_op::shutdown;
        (void)detail::manager_call(m_endpoint, request);
    }
    catch (...)
    {
        // Gone already: reaping is all that is left.
    }
    detail::forget_manager_link(m_endpoint);
    try
    {
        m_server->join(std::chrono::seconds(5));
        if (m_server->is_alive())
        {
            m_server->kill();
            m_server->join();
        }
    }
    catch (...)
    {
    }
    m_server.reset();
}

pid_t manager::pid() const
{
    return m_server ? m_server->pid().value_or(0) : 0;
}

} // namespace weft
