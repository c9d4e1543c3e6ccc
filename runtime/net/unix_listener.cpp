#include "runtime/net/unix_listener.hpp"

#include <cerrno>
#include <stdexcept>
#include <unistd.h>
#include <utility>

#include <sys/stat.h>
#include <system_error>

#include "runtime/net/detail/socket_ops.hpp"

namespace weft
{
namespace
{

unix_stream adopt_stream(int fd)
{
    return unix_stream(uring::owned_fd(fd));
}

} // namespace

unix_listener::unix_listener(uring::owned_fd fd, std::string path, dev_t device,
                             ino_t inode) noexcept
    : m_fd(std::move(fd)), m_path(std::move(path)), m_device(device), m_inode(inode)
{
}

unix_listener unix_listener::bind(const socket_address& address)
{
    return bind(address, options{});
}

unix_listener unix_listener::bind(const socket_address& address, const options& opts)
{
    if (!address.is_unix())
    {
        throw std::invalid_argument("weft: unix_listener::bind: not a Unix-domain address: \"" +
                                    address.to_string() + "\"");
    }
    uring::owned_fd fd = detail::open_socket(AF_UNIX, SOCK_STREAM);
    detail::bind_to(fd.get(), address);
    std::string path = address.path();
    struct stat st = {};
    const bool on_disk = !path.empty() && path.front() != '\0';
    if (on_disk && ::stat(path.c_str(), &st) != 0)
    {
        throw std::system_error(errno, std::system_category(), "stat " + path);
    }
    // Built before listen() so that a failure below still removes the file.
    unix_listener listener(std::move(fd), on_disk ? std::move(path) : std::string(), st.st_dev,
                           st.st_ino);
    detail::start_listening(listener.m_fd.get(), opts.backlog);
    return listener;
}

unix_listener unix_listener::bind(std::string_view path)
{
    return bind(socket_address::unix_path(path), options{});
}

unix_listener::unix_listener(unix_listener&& other) noexcept
    : m_fd(std::move(other.m_fd)), m_path(std::exchange(other.m_path, {})),
      m_device(other.m_device), m_inode(other.m_inode)
{
}

unix_listener& unix_listener::operator=(unix_listener&& other) noexcept
{
    if (this != &other)
    {
        unlink_path();
        m_fd = std::move(other.m_fd);
        m_path = std::exchange(other.m_path, {});
        m_device = other.m_device;
        m_inode = other.m_inode;
    }
    return *this;
}

unix_listener::~unix_listener()
{
    unlink_path();
}

void unix_listener::unlink_path() noexcept
{
    if (m_path.empty())
    {
        return;
    }
    struct stat st = {};
    if (::stat(m_path.c_str(), &st) == 0 && st.st_dev == m_device && st.st_ino == m_inode)
    {
        ::unlink(m_path.c_str());
    }
    m_path.clear();
}

uring::converted_operation<uring::accept_operation, unix_stream> unix_listener::accept() const
{
    return {uring::accept_operation(m_fd.get()), &adopt_stream};
}

socket_address unix_listener::local_address() const
{
    return detail::local_address_of(m_fd.get());
}

uring::close_awaitable unix_listener::close() noexcept
{
    unlink_path();
    return m_fd.close();
}

} // namespace weft
