// Python's `shm = SharedMemory(name=..., create=True, size=1024)` in one process and
// `SharedMemory(name=...)` in another that knows only the name: the second fills the buffer and
// records a total in a value it also finds by name; the first sees both, then unlinks the name.
//
// Prints:
//     made /weft-example-<pid> (1024 bytes)
//     the other process wrote 1024 bytes and counted 523776
//     the name is gone: yes
//
// Differences from Python: the name is owned by the process that made it and removed exactly
// once (unlink(), or its last handle, or a keeper process if it is killed): no resource tracker
// warnings, no other process removing it. Opening checks what the name holds: a shared_value of
// another type, or made with another lock, is refused.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <weft/weft.hpp>

// Knows nothing but the names: what an unrelated program would do.
void fill_by_name(std::string name)
{
    auto block = weft::shared_memory::open(name);
    auto total = weft::shared_value<std::int64_t>::open(name + "-total");
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < block.size(); ++i)
    {
        block.data()[i] = static_cast<std::byte>(i % 251);
        sum += static_cast<std::int64_t>(i);
    }
    total.set(sum);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const std::string name = "/weft-example-" + std::to_string(::getpid());
    auto block = weft::shared_memory::create(name, 1024);
    weft::shared_value<std::int64_t> total(0, {.name = name + "-total"});
    std::printf("made /weft-example-<pid> (%zu bytes)\n", block.size());

    weft::process other({.start_method = weft::start_method::spawn}, fill_by_name, name);
    other.start();
    other.join();

    bool filled = true;
    for (std::size_t i = 0; i < block.size(); ++i)
    {
        filled = filled && block.data()[i] == static_cast<std::byte>(i % 251);
    }
    std::printf("the other process wrote %zu bytes and counted %lld\n", filled ? block.size() : 0,
                static_cast<long long>(total.get()));

    block.unlink(); // the memory stays this process's until `block` goes
    const bool gone = !std::filesystem::exists("/dev/shm" + name);
    std::printf("the name is gone: %s\n", gone ? "yes" : "no");
    return other.exitcode() == 0 && filled && total.get() == 523776 && gone ? 0 : 1;
}
