// The seeds' first Pipe: the child sends ['hello', 'world'] over its end and closes it; the
// parent receives and prints it.
//
//     parent_connection, child_connection = Pipe()
//     p = Process(target=f, args=(child_connection,)); p.start()
//     print(parent_connection.recv()); p.join()
//
// Pipe() is duplex by default, in weft too: either end may send and receive.
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>
#include <weft/weft.hpp>

void f(weft::connection<std::vector<std::string>> connection)
{
    connection.send({"hello", "world"});
    connection.close();
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    // the two ends of the Pipe
    auto [parent_connection, child_connection] = weft::pipe<std::vector<std::string>>();
    weft::process p(f, child_connection);
    p.start();
    const std::vector<std::string> got = parent_connection.recv();
    std::printf("[");
    for (std::size_t i = 0; i < got.size(); ++i)
    {
        std::printf("%s'%s'", i == 0 ? "" : ", ", got[i].c_str());
    }
    std::printf("]\n");
    p.join();
    const bool ok = got == std::vector<std::string>{"hello", "world"};
    return ok && p.exitcode() == 0 ? 0 : 1;
}
