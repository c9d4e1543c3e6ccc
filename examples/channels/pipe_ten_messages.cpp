// The seeds' Pipe program: the child sends "hello 1" .. "hello 10" and closes its end; the
// parent waits (300 ms here, 3 s in the seed), then receives and prints the ten messages.
//
// Then what the seed leaves out: the next recv() throws weft::eof_error (Python's EOFError)
// only once every copy of the child's end is closed. The child has exited, but the parent still
// holds the end it handed over, so at first there is nothing to read and no end of file either
// (poll says recv() would block); after child_conn.close() here, recv() throws eof_error.
// As in Python, the messages wait in the socket's buffer, so the child may exit before the
// parent reads them.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <weft/weft.hpp>

using namespace std::chrono_literals;

void child_process(weft::connection<std::string> conn)
{
    for (int i = 0; i < 10; ++i)
    {
        conn.send("hello " + std::to_string(i + 1));
    }
    conn.close();
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    auto [parent_conn, child_conn] = weft::pipe<std::string>();
    weft::process p(child_process, child_conn);
    p.start();
    std::this_thread::sleep_for(300ms);

    int right = 0;
    for (int i = 0; i < 10; ++i)
    {
        const std::string msg = parent_conn.recv();
        std::printf("%s\n", msg.c_str());
        right += msg == "hello " + std::to_string(i + 1) ? 1 : 0;
    }
    p.join();

    const bool would_block = !parent_conn.poll(100ms);
    std::printf("child exited; parent still holds the child's end: recv() would %s\n",
                would_block ? "block" : "not block");
    child_conn.close();
    bool eof = false;
    try
    {
        (void)parent_conn.recv();
    }
    catch (const weft::eof_error& e)
    {
        eof = true;
        std::printf("after child_conn.close(): eof_error: %s\n", e.what());
    }
    parent_conn.close();
    return right == 10 && would_block && eof && p.exitcode() == 0 ? 0 : 1;
}
