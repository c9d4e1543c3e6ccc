#pragma once
// Test helper: a directory child processes leave files in, and the test counts them.

#include <filesystem>
#include <iterator>
#include <string>
#include <unistd.h>

namespace weft::testing
{

/// A directory in the temporary directory unique to this process and object, removed with
/// everything in it when the object goes.
class scratch_dir
{
  public:
    scratch_dir()
        : m_path(std::filesystem::temp_directory_path() /
                 ("weft_scratch_dir_" + std::to_string(::getpid()) + "_" +
                  std::to_string(s_counter++)))
    {
        std::filesystem::create_directory(m_path);
    }
    ~scratch_dir() { std::filesystem::remove_all(m_path); }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    [[nodiscard]] std::string path() const { return m_path.string(); }
    /// How many entries it holds.
    [[nodiscard]] std::size_t files() const
    {
        return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(m_path),
                                                      std::filesystem::directory_iterator()));
    }

  private:
    static inline int s_counter = 0;
    std::filesystem::path m_path;
};

} // namespace weft::testing
