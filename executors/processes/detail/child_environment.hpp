#pragma once
// The environment variables through which a parent tells the run of this program it starts
// (spawn, the fork server) what that run is for. spawn_self() sets them; main_guard() reads
// them and removes them, so that they never reach the child's own children.

namespace weft::detail
{

/// The memfd holding the payload a spawned child runs.
inline constexpr const char* payload_env = "WEFT_SPAWN_PAYLOAD_FD";
/// The socket a fork server reads its requests from.
inline constexpr const char* forkserver_env = "WEFT_FORKSERVER_FD";
/// The pid of the process that started the child: the child exits at once if it is gone.
inline constexpr const char* parent_env = "WEFT_PARENT_PID";
/// "3,7": the descriptors passed along with a payload (inherited_fds()).
inline constexpr const char* extra_fds_env = "WEFT_EXTRA_FDS";

} // namespace weft::detail
