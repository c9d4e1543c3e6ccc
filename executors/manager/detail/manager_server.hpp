#pragma once
// The manager's server process: the objects, and a thread per connected process answering its
// requests one at a time.

#include <string>

#include "executors/channels/connection.hpp"
#include "executors/manager/detail/manager_client.hpp"

namespace weft::detail
{

/// The server process's target: listens at `endpoint`, sends 1 on `ready` once it does, and
/// answers requests until one asks it to shut down (or its parent dies).
void manager_server_main(manager_endpoint endpoint, connection<int> ready);

} // namespace weft::detail
