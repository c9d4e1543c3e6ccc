#include "runtime/fs/file.hpp"

#include <fcntl.h>
#include <utility>

namespace weft
{
namespace
{

file adopt_file(int fd)
{
    return file(uring::owned_fd(fd));
}

} // namespace

uring::converted_operation<uring::openat_operation, file> file::open(std::string path, int flags,
                                                                     mode_t mode)
{
    return {uring::openat_operation(AT_FDCWD, std::move(path), flags | O_CLOEXEC, mode),
            &adopt_file};
}

} // namespace weft
