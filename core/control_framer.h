#pragma once
// Request framing of the control socket, without sockets: bytes in, request lines out.
// Pure, so that the unit tests and the control fuzz target drive exactly what the server runs.
#include <cstddef>
#include <string>
#include <string_view>

namespace rmha::core {

inline constexpr std::size_t kMaxControlRequest = 64 * 1024;

class ControlFramer {
public:
  enum class Next { Line, NeedMore, TooLong };

  /// `max`: the most bytes buffered at once (one request line, or several queued ones).
  explicit ControlFramer(std::size_t max = kMaxControlRequest) : max_(max) {}

  /// Adds bytes read from the client. Returns false once more than `max` bytes are buffered:
  /// the client is then answered with an error and closed.
  bool append(std::string_view bytes);
  /// The next complete request line (without its '\n' and a '\r' before it), NeedMore when
  /// none is complete, TooLong after append() returned false.
  Next next(std::string& line);
  /// Bytes of a request whose line is not complete yet are buffered.
  bool partial() const { return buffered() != 0; }
  std::size_t buffered() const { return buffer_.size() - start_; }
  /// Bytes searched for a newline since construction (the linearity above, for the tests).
  std::size_t examined() const { return examined_; }

private:
  std::size_t max_;
  std::string buffer_;
  std::size_t start_ = 0;   // the first byte not yet handed out as a line
  std::size_t scanned_ = 0; // bytes before this hold no newline (from start_ on)
  std::size_t examined_ = 0;
  bool overflow_ = false;
};

} // namespace rmha::core
