#pragma once
// The loop a process pool's worker runs: read a task from the shared-memory ring, run it,
// write its outcome back, until told to stop or max_tasks_per_child is reached.

#include <cstdint>

namespace weft::detail
{

/// What a spawned or forkserver worker is told besides its two descriptors.
struct pool_worker_config
{
    std::uint32_t max_tasks = 0; // 0: no limit
};

/// The worker's entry point under spawn and forkserver, shipped like any process target: the
/// channel memfd and the pool's eventfd arrive as inherited_fds().
void pool_worker_main(pool_worker_config config);

/// The loop itself (a forked worker calls it directly with the descriptors it inherited).
/// Returns when the pool sends stop or after `max_tasks` tasks.
void run_pool_worker(int channel_fd, int pool_bell_fd, std::uint32_t max_tasks);

} // namespace weft::detail
