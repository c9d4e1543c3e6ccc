#pragma once

#include <optional>

#include <sys/types.h>

#include "executors/manager/detail/manager_client.hpp"
#include "executors/manager/dict_proxy.hpp"
#include "executors/manager/list_proxy.hpp"
#include "executors/manager/namespace_proxy.hpp"
#include "executors/manager/value_proxy.hpp"
#include "executors/processes/process.hpp"
#include "executors/processes/start_method.hpp"

namespace weft
{

/// Python's multiprocessing.Manager(): a server process that holds shared objects (dict, list,
/// value, namespace) and proxies that reach them from any process they are passed to (as
/// process or pool task arguments, through queues and pipes). Each proxy call is a request
/// over an authenticated Unix socket (an abstract name, so no file; a random key): flexible,
/// any serializable type, and about a round trip per call. For trivially copyable data that
/// must be fast, shared_value and shared_array are the option (see BENCHMARKS.md).
///
/// Objects live as long as the server; the server lives until shutdown() or the manager's
/// destruction (or its parent's death). Proxies used after that throw std::system_error.
class manager
{
  public:
    struct options
    {
        /// How the server process starts (empty: get_start_method()).
        std::optional<weft::start_method> start_method = {};
    };

    /// Starts the server and waits until it listens. Throws std::system_error, or
    /// std::runtime_error when the server did not come up within ten seconds.
    manager() : manager(options{}) {}
    explicit manager(options opts);
    manager(const manager&) = delete;
    manager& operator=(const manager&) = delete;
    /// shutdown().
    ~manager();

    template <class K, class V>
    [[nodiscard]] dict_proxy<K, V> dict()
    {
        return dict_proxy<K, V>(m_endpoint, create(detail::manager_op::create_dict, {}));
    }
    template <class T>
    [[nodiscard]] list_proxy<T> list()
    {
        return list_proxy<T>(m_endpoint, create(detail::manager_op::create_list, {}));
    }
    template <class T>
    [[nodiscard]] value_proxy<T> value(const T& initial = T{})
    {
        value_proxy<T> made(m_endpoint, create(detail::manager_op::create_value, {}));
        made.set(initial);
        return made;
    }
    /// Python's Namespace() (`namespace` is a C++ keyword).
    [[nodiscard]] namespace_proxy make_namespace()
    {
        return namespace_proxy(m_endpoint, create(detail::manager_op::create_dict, {}));
    }

    /// Stops the server (its objects go with it) and reaps it. Idempotent.
    void shutdown() noexcept;
    /// The server's pid (0 after shutdown).
    [[nodiscard]] pid_t pid() const;
    /// Where the server listens (Python's manager.address): an abstract Unix socket name.
    [[nodiscard]] const socket_address& address() const noexcept { return m_endpoint.address; }

  private:
    std::uint64_t create(detail::manager_op op, std::string value);

    detail::manager_endpoint m_endpoint;
    std::optional<process> m_server;
};

} // namespace weft
