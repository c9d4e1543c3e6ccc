// The seeds' failing program, working: a Value('I', 1, lock=False) that Python cannot put on a
// Queue ("c_uint objects should only be shared between processes through inheritance") nor
// send to a Pool task. In weft a shared_value travels as an argument under every start method,
// by a descriptor of its memory, never as a copy: here to a spawned process, then to a pool
// task (forkserver workers), and each sees and changes the one value.
//
// Prints:
//     Child process received var = 1 (spawn), sets it to 2
//     Pool task received var = 2, sets it to 3
//     Parent process sees var = 3
//
// (Queues come later; this example passes the value as process and task arguments only.)
#include <cstdio>
#include <weft/weft.hpp>

using raw_value = weft::shared_value<unsigned>; // 'I'

void child_process(raw_value var)
{
    std::printf("Child process received var = %u (spawn), sets it to %u\n", var.get(),
                var.get() + 1);
    std::fflush(stdout);
    var.set(var.get() + 1); // lock=False: nobody else writes meanwhile
}

unsigned pool_task(raw_value var)
{
    const unsigned seen = var.get();
    std::printf("Pool task received var = %u, sets it to %u\n", seen, seen + 1);
    std::fflush(stdout);
    var.set(seen + 1);
    return seen;
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    raw_value var(1, {.lock = false});

    weft::process process({.start_method = weft::start_method::spawn}, child_process, var);
    process.start();
    process.join();

    weft::pool pool(1);
    const unsigned task_saw = pool.apply(pool_task, var);

    std::printf("Parent process sees var = %u\n", var.get());
    return process.exitcode() == 0 && task_saw == 2 && var.get() == 3 ? 0 : 1;
}
