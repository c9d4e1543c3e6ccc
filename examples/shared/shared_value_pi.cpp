// Python's `pi = Value('d', 3.1415); print(pi.value)`, then a child process that doubles it
// under the value's lock, and the parent printing what the child left there.
//
// Prints:
//     3.1415
//     child sees 3.1415 and doubles it
//     parent sees 6.283
//
// Differences from Python: the child is a forkserver child (the default) and gets the value as
// an argument; Python's Value reaches a child only by inheritance (fork, or Process args while
// spawning). shared_value<double> has its own interprocess::rlock, as Value's lock=True.
#include <cstdio>
#include <stdexcept>
#include <weft/weft.hpp>

void child_task(weft::shared_value<double> pi)
{
    auto held = pi.get_lock().guard(); // read-modify-write: hold the lock around it
    std::printf("child sees %g and doubles it\n", pi.raw());
    std::fflush(stdout);
    if (pi.raw() != 3.1415)
    {
        throw std::runtime_error("the child did not see the parent's value");
    }
    pi.raw() *= 2;
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    weft::shared_value<double> pi(3.1415);
    std::printf("%g\n", pi.get());
    std::fflush(stdout);

    weft::process child(child_task, pi);
    child.start();
    child.join();
    std::printf("parent sees %g\n", pi.get());
    return child.exitcode() == 0 && pi.get() == 3.1415 * 2 ? 0 : 1;
}
