#pragma once
// The names in /dev/shm this process owns, and a keeper process that removes them if this
// process ends without doing so itself (SIGKILL, a crash, exit with a handle still alive).
//
// The keeper is started on the first name, double-forked (so it is nobody's child to reap), by
// posix_spawn of /proc/self/exe (a fresh image: it holds none of this process's memory, and a
// constructor of this library turns it into the keeper before the program's own code runs). It
// waits for the end of a pipe whose only writer is this process, then unlinks every name still
// recorded in a table it shares with this process, each only if the name still refers to the
// file this process made (a name removed and made again by someone else is left alone).

#include <string>

#include <sys/types.h>

namespace weft::detail::name_keeper
{

/// Starts this process's keeper if it has none yet (before a name exists, so that no kill can
/// fall between making a name and keeping it). Throws std::system_error.
void prepare();

/// Records that this process owns `name` (a /dev/shm entry, "/x" form) made as the file with
/// device `dev` and inode `ino`. Throws std::system_error when the keeper cannot be started,
/// std::length_error when this process owns too many names already.
void keep(const std::string& name, dev_t dev, ino_t ino);

/// This process removed `name` (the file `dev`/`ino`) itself, or gave it up: the keeper forgets
/// it. Another name of the same text kept for another file stays kept.
void forget(const std::string& name, dev_t dev, ino_t ino) noexcept;

/// How many names the keeper holds for this process (for tests).
[[nodiscard]] std::size_t kept_count() noexcept;

} // namespace weft::detail::name_keeper
