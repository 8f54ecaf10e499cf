#pragma once
// Reading a small file that the configuration names (the configuration itself, the peer-link
// key) without trusting what the path points at: a FIFO or a device must not hang the daemon,
// a directory must not read as an empty file, and a huge file must not be read into memory.
#include <cstddef>
#include <optional>
#include <string>

namespace rmha::core {

/// What readSmallFile() read, with the permission bits the caller may want to check.
struct SmallFile {
  std::string content;
  unsigned mode = 0; ///< st_mode & 07777 of the file that was opened (not of a symlink)
};

/// Opens `path` without blocking (O_NONBLOCK: opening a FIFO returns at once), refuses what is
/// not a regular file or is larger than `maxBytes` before reading anything, then reads it whole.
/// Symlinks are followed: every check applies to the opened file itself (fstat of the
/// descriptor), so a link cannot smuggle anything past them.
/// On refusal returns nullopt and sets `why` to a sentence fragment naming the cause, e.g.
/// "is a FIFO, not a regular file" or "cannot be opened (Permission denied)".
std::optional<SmallFile> readSmallFile(const std::string& path, std::size_t maxBytes,
                                       std::string& why);

} // namespace rmha::core
