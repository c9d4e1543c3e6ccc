#include "executors/manager/detail/manager_client.hpp"

#include <map>
#include <new>
#include <pthread.h>
#include <unistd.h>
#include <utility>

#include "executors/channels/listener.hpp"
#include "executors/processes/detail/wire.hpp"

namespace weft::detail
{
namespace
{

struct server_link
{
    std::mutex mutex; // one request at a time on the connection
    std::optional<connection<std::string>> peer;
    pid_t made_in = 0;
};

// This process's links, by server address (a few managers at most). Made on first use, never
// destroyed: proxies may be used during static initialisation and teardown.
struct link_table
{
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<server_link>> links;
};

link_table*& table_slot()
{
    static link_table* table = new link_table;
    return table;
}

// A child forked while another thread was in a call (holding a link's mutex or the table's)
// would hang on its first proxy call: it starts from an empty table and connects afresh.
void fresh_table_in_child() noexcept
{
    table_slot() = new (std::nothrow) link_table;
}

const int g_atfork_registered = ::pthread_atfork(nullptr, nullptr, &fresh_table_in_child);

std::shared_ptr<server_link> link_to(const manager_endpoint& endpoint)
{
    std::lock_guard held(table_slot()->mutex);
    auto& link = table_slot()->links[endpoint.address.to_string()];
    if (link == nullptr)
    {
        link = std::make_shared<server_link>();
    }
    return link;
}

} // namespace

manager_reply manager_call(const manager_endpoint& endpoint, const manager_request& request)
{
    const std::shared_ptr<server_link> link = link_to(endpoint);
    std::lock_guard held(link->mutex);
    if (!link->peer || link->made_in != ::getpid())
    {
        // Made here, or inherited through fork: a child makes its own (sharing the parent's
        // socket would interleave their requests).
        link->peer.reset();
        link->peer.emplace(client<std::string>(endpoint.address, endpoint.authkey));
        link->made_in = ::getpid();
    }
    std::string bytes;
    {
        wire_writer writer(bytes);
        writer.archive()(request);
    }
    std::string answer;
    try
    {
        link->peer->send_bytes(bytes);
        answer = link->peer->recv_bytes();
    }
    catch (...)
    {
        link->peer.reset(); // the next call connects afresh
        throw;
    }
    manager_reply reply;
    wire_reader reader(answer);
    reader.archive()(reply);
    return reply;
}

void forget_manager_link(const manager_endpoint& endpoint) noexcept
{
    std::shared_ptr<server_link> link;
    {
        std::lock_guard held(table_slot()->mutex);
        auto found = table_slot()->links.find(endpoint.address.to_string());
        if (found == table_slot()->links.end())
        {
            return;
        }
        link = std::move(found->second);
        table_slot()->links.erase(found);
    }
    std::lock_guard held(link->mutex); // a call in progress on another thread ends first
    link->peer.reset();
}

} // namespace weft::detail
