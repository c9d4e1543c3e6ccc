#pragma once
// Test helper: a file a child process writes and the test reads back.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace weft::testing
{

/// A path in the temporary directory unique to this process and object, removed when the
/// object goes.
class scratch_file
{
  public:
    scratch_file()
        : m_path(std::filesystem::temp_directory_path() /
                 ("weft_process_test_" + std::to_string(::getpid()) + "_" +
                  std::to_string(s_counter++)))
    {
    }
    ~scratch_file() { std::filesystem::remove(m_path); }
    scratch_file(const scratch_file&) = delete;
    scratch_file& operator=(const scratch_file&) = delete;
    [[nodiscard]] std::string path() const { return m_path.string(); }
    [[nodiscard]] std::string read() const
    {
        std::ifstream in(m_path);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

  private:
    static inline int s_counter = 0;
    std::filesystem::path m_path;
};

} // namespace weft::testing
