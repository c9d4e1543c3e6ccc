#include "executors/manager/detail/manager_server.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <poll.h>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <sys/socket.h>

#include "executors/channels/connection.hpp"
#include "executors/channels/detail/socket_setup.hpp"
#include "executors/processes/detail/wire.hpp"

namespace weft::detail
{
namespace
{

// A dict keeps insertion order, as Python's does.
struct dict_object
{
    std::vector<std::pair<std::string, std::string>> items;
    std::unordered_map<std::string, std::size_t> at;

    void reindex()
    {
        at.clear();
        for (std::size_t i = 0; i < items.size(); ++i)
        {
            at[items[i].first] = i;
        }
    }
};
struct list_object
{
    std::vector<std::string> items;
};
struct value_object
{
    std::string value;
};
using object = std::variant<dict_object, list_object, value_object>;

class store
{
  public:
    manager_reply handle(const manager_request& r)
    {
        std::lock_guard held(m_mutex);
        manager_reply reply;
        switch (r.op)
        {
        case manager_op::create_dict:
            reply.number = add(dict_object{});
            return reply;
        case manager_op::create_list:
            reply.number = add(list_object{});
            return reply;
        case manager_op::create_value:
            reply.number = add(value_object{r.value});
            return reply;
        case manager_op::shutdown:
            return reply;
        default:
            break;
        }
        auto found = m_objects.find(r.object);
        if (found == m_objects.end())
        {
            reply.status = manager_status::wrong_object;
            return reply;
        }
        return std::visit([&](auto& o) { return apply(o, r); }, found->second);
    }

  private:
    std::uint64_t add(object o)
    {
        m_objects.emplace(++m_last, std::move(o));
        return m_last;
    }

    static manager_reply wrong()
    {
        manager_reply reply;
        reply.status = manager_status::wrong_object;
        return reply;
    }
    static manager_reply missing()
    {
        manager_reply reply;
        reply.status = manager_status::missing;
        return reply;
    }

    static manager_reply apply(dict_object& d, const manager_request& r)
    {
        manager_reply reply;
        auto found = d.at.find(r.key);
        switch (r.op)
        {
        case manager_op::size:
            reply.number = d.items.size();
            return reply;
        case manager_op::clear:
            d.items.clear();
            d.at.clear();
            return reply;
        case manager_op::dict_set:
            if (found != d.at.end())
            {
                d.items[found->second].second = r.value;
            }
            else
            {
                d.at.emplace(r.key, d.items.size());
                d.items.emplace_back(r.key, r.value);
            }
            return reply;
        case manager_op::dict_get:
            if (found == d.at.end())
            {
                return missing();
            }
            reply.value = d.items[found->second].second;
            return reply;
        case manager_op::dict_get_or:
            if (found != d.at.end())
            {
                reply.number = 1;
                reply.value = d.items[found->second].second;
            }
            return reply;
        case manager_op::dict_erase:
            if (found == d.at.end())
            {
                return missing();
            }
            reply.value = d.items[found->second].second;
            d.items.erase(d.items.begin() + static_cast<std::ptrdiff_t>(found->second));
            d.reindex();
            return reply;
        case manager_op::dict_contains:
            reply.number = found != d.at.end() ? 1 : 0;
            return reply;
        case manager_op::dict_keys:
        case manager_op::dict_values:
            for (const auto& [key, value] : d.items)
            {
                reply.values.push_back(r.op == manager_op::dict_keys ? key : value);
            }
            return reply;
        default:
            return wrong();
        }
    }

    static bool index_of(const list_object& l, std::int64_t index, std::size_t& at)
    {
        const auto size = static_cast<std::int64_t>(l.items.size());
        const std::int64_t i = index < 0 ? index + size : index; // Python's negative indices
        if (i < 0 || i >= size)
        {
            return false;
        }
        at = static_cast<std::size_t>(i);
        return true;
    }

    static manager_reply apply(list_object& l, const manager_request& r)
    {
        manager_reply reply;
        std::size_t at = 0;
        switch (r.op)
        {
        case manager_op::size:
            reply.number = l.items.size();
            return reply;
        case manager_op::clear:
            l.items.clear();
            return reply;
        case manager_op::list_append:
            l.items.push_back(r.value);
            return reply;
        case manager_op::list_get:
            if (!index_of(l, r.index, at))
            {
                return missing();
            }
            reply.value = l.items[at];
            return reply;
        case manager_op::list_set:
            if (!index_of(l, r.index, at))
            {
                return missing();
            }
            l.items[at] = r.value;
            return reply;
        case manager_op::list_insert:
        {
            // Python's insert clamps the index.
            const auto size = static_cast<std::int64_t>(l.items.size());
            std::int64_t i = r.index < 0 ? r.index + size : r.index;
            i = std::clamp<std::int64_t>(i, 0, size);
            l.items.insert(l.items.begin() + i, r.value);
            return reply;
        }
        case manager_op::list_pop:
            if (!index_of(l, r.index, at))
            {
                return missing();
            }
            reply.value = std::move(l.items[at]);
            l.items.erase(l.items.begin() + static_cast<std::ptrdiff_t>(at));
            return reply;
        case manager_op::list_items:
            reply.values = l.items;
            return reply;
        default:
            return wrong();
        }
    }

    static manager_reply apply(value_object& v, const manager_request& r)
    {
        manager_reply reply;
        switch (r.op)
        {
        case manager_op::value_get:
            reply.value = v.value;
            return reply;
        case manager_op::value_set:
            v.value = r.value;
            return reply;
        default:
            return wrong();
        }
    }

    std::mutex m_mutex;
    std::unordered_map<std::uint64_t, object> m_objects;
    std::uint64_t m_last = 0;
};

// A client process answers the handshake in milliseconds; one that has not in this long is
// not one (or is stuck), and gives back its thread and descriptor.
constexpr std::chrono::seconds g_handshake_time{10};

// Authenticates one connected process, then answers it until it hangs up; a shutdown request
// ends the server. On the connection's own thread: a client that connects and then says nothing
// holds up only this thread, never the accepting loop, and only for g_handshake_time.
void serve(store& objects, uring::owned_fd fd, const std::string& authkey)
{
    try
    {
        connection<std::string> peer(std::move(fd), true, true);
        peer.authenticate(true, authkey, g_handshake_time);
        for (;;)
        {
            const std::string bytes = peer.recv_bytes();
            manager_request request;
            {
                wire_reader reader(bytes);
                reader.archive()(request);
            }
            const manager_reply reply = objects.handle(request);
            std::string answer;
            {
                wire_writer writer(answer);
                writer.archive()(reply);
            }
            peer.send_bytes(answer);
            if (request.op == manager_op::shutdown)
            {
                std::fflush(nullptr);
                std::_Exit(0);
            }
        }
    }
    catch (...)
    {
        // The process hung up (eof_error), did not hold the key or did not prove it within
        // g_handshake_time, or sent something unreadable: drop it.
    }
}

} // namespace

void manager_server_main(manager_endpoint endpoint, connection<int> ready)
{
    const uring::owned_fd accepting = listen_on(endpoint.address, 16);
    ready.send(1);
    ready.close();
    auto* objects = new store; // lives until the process exits
    for (;;)
    {
        uring::owned_fd fd(::accept4(accepting.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!fd.valid())
        {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
            {
                pollfd readable{accepting.get(), POLLIN, 0};
                (void)::poll(&readable, 1, -1); // the socket is non-blocking
            }
            else if (errno != EINTR)
            {
                // A descriptor limit, say: keeps failing while the condition lasts, so do not
                // spin on it.
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            continue;
        }
        try
        {
            std::thread(serve, std::ref(*objects), std::move(fd), endpoint.authkey).detach();
        }
        catch (const std::exception&)
        {
            // No thread to be had: that connection is refused (its descriptor went with the
            // thread's arguments), and the server goes on for the others.
        }
    }
}

} // namespace weft::detail
