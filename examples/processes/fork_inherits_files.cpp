// The seeds' open-file example: a forked child inherits the parent's open file and writes to
// it; a spawned child is a fresh program in which the file was never opened (Python's
// spawn version fails with an AttributeError on None; here the child says so), and so is a
// forkserver child, forked from a server that was itself a fresh program.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <unistd.h>
#include <weft/weft.hpp>

std::FILE* file_desc = nullptr;

void process_task()
{
    if (file_desc == nullptr)
    {
        std::printf("[%s] no open file here: this process did not inherit the parent's memory\n",
                    weft::current_process_name().c_str());
        return;
    }
    std::fprintf(file_desc, "\nline written by child process with id %d having parent id %d",
                 static_cast<int>(::getpid()), static_cast<int>(::getppid()));
    std::fflush(file_desc);
}

int main(int argc, char** argv)
{
    weft::main_guard(argc, argv);
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("weft_sample_" + std::to_string(::getpid()) + ".txt"))
                                 .string();
    for (const auto method :
         {weft::start_method::fork, weft::start_method::spawn, weft::start_method::forkserver})
    {
        file_desc = std::fopen(path.c_str(), "w");
        std::fprintf(file_desc, "\nline written by parent process with id %d",
                     static_cast<int>(::getpid()));
        std::fflush(file_desc);

        weft::process process({.name = weft::to_string(method), .start_method = method},
                              process_task);
        process.start();
        process.join();
        std::fclose(file_desc);
        file_desc = nullptr;

        std::cout << "--- " << weft::to_string(method)
                  << ": sample.txt reads:" << std::ifstream(path).rdbuf() << "\n";
        std::filesystem::remove(path);
    }
}
