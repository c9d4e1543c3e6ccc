// daemon_thread: the seeds' daemon-thread notes as a program. A Python program exits without
// waiting for daemon threads; in weft a daemon thread is detached when its weft::thread object
// is destroyed (a non-daemon one is joined), so main() can return while it still runs. A
// daemon thread must not use anything that may be destroyed before it: this one only prints.
//
//   build/examples/threads/daemon_thread
// prints a few "daemon: still running" lines, "worker finished" and "main exiting, the daemon
// is abandoned"; exits 0 at once although the daemon never ends by itself.

#include <chrono>
#include <cstdio>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

int main()
{
    weft::thread daemon({.name = "heartbeat", .daemon = true},
                        []
                        {
                            while (true)
                            {
                                std::printf("daemon: still running\n");
                                std::this_thread::sleep_for(100ms);
                            }
                        });
    weft::thread worker({.name = "worker"},
                        []
                        {
                            std::this_thread::sleep_for(350ms);
                            std::printf("worker finished\n");
                        });
    daemon.start();
    worker.start();
    // No join: the worker's destructor joins it, the daemon's detaches it.
    std::printf("main exiting, the daemon is abandoned\n");
    return 0;
}
