#include "core/small_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace rmha::core {
namespace {

class Fd {
public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }

private:
  int fd_;
};

const char* kindOf(mode_t mode) {
  if (S_ISDIR(mode)) {
    return "a directory";
  }
  if (S_ISFIFO(mode)) {
    return "a FIFO";
  }
  if (S_ISSOCK(mode)) {
    return "a socket";
  }
  if (S_ISCHR(mode)) {
    return "a character device";
  }
  if (S_ISBLK(mode)) {
    return "a block device";
  }
  return nullptr;
}

std::string tooLarge(std::size_t size, std::size_t maxBytes) {
  return fmt::format("is {} bytes, more than the {} allowed", size, maxBytes);
}

// Reads to end of file, at most maxBytes + 1 bytes: one more than allowed, so that a file that
// grew since fstat is refused rather than silently cut.
bool readAll(int fd, std::size_t maxBytes, std::string& out, std::string& why) {
  std::string buf(maxBytes + 1, '\0');
  std::size_t got = 0;
  while (got < buf.size()) {
    const auto n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      why = fmt::format("cannot be read ({})", std::strerror(errno));
      return false;
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  if (got > maxBytes) {
    why = fmt::format("grew past the {} bytes allowed while it was read", maxBytes);
    return false;
  }
  buf.resize(got);
  out = std::move(buf);
  return true;
}

} // namespace

std::optional<SmallFile> readSmallFile(const std::string& path, std::size_t maxBytes,
                                       std::string& why) {
  // O_NONBLOCK: open(2) of a FIFO with no writer would otherwise wait for one forever.
  // O_NOCTTY: a terminal device must never become the daemon's controlling terminal.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) {
    why = fmt::format("cannot be opened ({})", std::strerror(errno));
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    why = fmt::format("cannot be examined ({})", std::strerror(errno));
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    const char* kind = kindOf(st.st_mode);
    why = kind ? fmt::format("is {}, not a regular file", kind) : "is not a regular file";
    return std::nullopt;
  }
  if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) > maxBytes) {
    why = tooLarge(static_cast<std::size_t>(st.st_size), maxBytes);
    return std::nullopt;
  }
  SmallFile out;
  out.mode = st.st_mode & 07777;
  if (!readAll(fd.get(), maxBytes, out.content, why)) {
    return std::nullopt;
  }
  return out;
}

} // namespace rmha::core
