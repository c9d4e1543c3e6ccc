// The seeds' Listener and Client (multiprocessing.connection): the parent listens on a Unix
// socket in a fresh temporary directory with an authkey; a child process connects with Client
// and the same key and sends a few objects, then "close"; the parent accepts, receives and
// prints them. Then a second child tries a wrong key: both sides get
// weft::authentication_error (Python's AuthenticationError) and nothing is read from it.
//
// Python pickles any object; a weft connection carries one type, here a variant of an int, a
// string and a list. The child gets the address as a process argument (a socket_address), so
// socket_address::parse("127.0.0.1", 0) for TCP would work the same.
#include <cereal/types/variant.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <variant>
#include <vector>
#include <weft/weft.hpp>

using object = std::variant<int, std::string, std::vector<int>>;

void sender(weft::socket_address address, std::string authkey)
{
    weft::connection<object> conn = weft::client<object>(address, authkey);
    conn.send(42);
    conn.send(std::string("hello"));
    conn.send(std::vector<int>{1, 2, 3});
    conn.send(std::string("close"));
    conn.close();
}

void intruder(weft::socket_address address, std::string authkey)
{
    try
    {
        (void)weft::client<object>(address, authkey);
    }
    catch (const weft::authentication_error& e)
    {
        std::printf("client with key '%s': authentication_error: %s\n", authkey.c_str(), e.what());
        return;
    }
    std::exit(1); // connected with the wrong key
}

std::string show(const object& value)
{
    if (const int* number = std::get_if<int>(&value))
    {
        return std::to_string(*number);
    }
    if (const std::string* text = std::get_if<std::string>(&value))
    {
        return "'" + *text + "'";
    }
    std::string list = "[";
    for (int x : std::get<std::vector<int>>(value))
    {
        list += (list.size() > 1 ? ", " : "") + std::to_string(x);
    }
    return list + "]";
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    char dir[] = "/tmp/weft-listener-XXXXXX";
    if (::mkdtemp(dir) == nullptr)
    {
        return 1;
    }
    int received = 0;
    bool refused = false;
    bool children_ok = false;
    {
        weft::listener<object> listener(
            weft::socket_address::unix_path(std::string(dir) + "/listener.sock"), "secret");
        std::printf("listening on %s\n", listener.address().to_string().c_str());
        std::fflush(stdout); // before the children print

        weft::process child(sender, listener.address(), std::string("secret"));
        child.start();
        weft::connection<object> conn = listener.accept();
        std::printf("connection accepted\n");
        for (;;)
        {
            const object msg = conn.recv();
            std::printf("received %s\n", show(msg).c_str());
            ++received;
            if (msg == object(std::string("close")))
            {
                break;
            }
        }
        conn.close();
        std::fflush(stdout);

        weft::process wrong(intruder, listener.address(), std::string("not the key"));
        wrong.start();
        try
        {
            (void)listener.accept();
        }
        catch (const weft::authentication_error& e)
        {
            refused = true;
            std::printf("listener refused a client: authentication_error: %s\n", e.what());
        }
        child.join();
        wrong.join();
        children_ok = child.exitcode() == 0 && wrong.exitcode() == 0;
    } // the listener removes its socket file
    ::rmdir(dir);
    return received == 4 && refused && children_ok ? 0 : 1;
}
