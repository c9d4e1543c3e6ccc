#pragma once
// The loop a process pool's worker runs: read a task from the shared-memory ring, run it,
// write its outcome back, until told to stop or max_tasks_per_child is reached.

#include <cstdint>
#include <string>

namespace weft::detail
{

/// The id of the initializer's message: its outcome comes back only when it threw.
inline constexpr std::uint64_t initializer_task_id = ~std::uint64_t{0};

/// What a worker is told besides its two descriptors.
struct pool_worker_config
{
    std::uint32_t max_tasks = 0;  // 0: no limit
    std::uint64_t max_memory = 0; // resident bytes after a task that retire the worker; 0: none
    std::string initializer;      // a task message run before the first task; empty: none

    template <class Archive>
    void serialize(Archive& archive)
    {
        archive(max_tasks, max_memory, initializer);
    }
};

/// The worker's entry point under spawn and forkserver, shipped like any process target: the
/// channel memfd, the pool's eventfd and the worker's end of the socket that carries shared
/// memory descriptors arrive as inherited_fds().
void pool_worker_main(pool_worker_config config);

/// The loop itself (a forked worker calls it directly with the descriptors it inherited).
/// Returns when the pool sends stop, after `max_tasks` tasks, when the worker's resident memory
/// passed `max_memory` after a task, or when the initializer threw (its outcome sent first).
/// `attachment_socket` receives the descriptors of the shared memory a task's arguments refer
/// to, sent just before the task (attachments.hpp).
void run_pool_worker(int channel_fd, int pool_bell_fd, int attachment_socket,
                     const pool_worker_config& config);

} // namespace weft::detail
