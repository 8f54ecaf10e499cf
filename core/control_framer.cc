#include "core/control_framer.h"

namespace rmha::core {

bool ControlFramer::append(std::string_view bytes) {
  if (overflow_ || buffer_.size() + bytes.size() > max_) {
    overflow_ = true;
    buffer_.clear(); // nothing more of this connection is served
    return false;
  }
  buffer_.append(bytes);
  return true;
}

ControlFramer::Next ControlFramer::next(std::string& line) {
  if (overflow_) {
    return Next::TooLong;
  }
  const auto nl = buffer_.find('\n');
  if (nl == std::string::npos) {
    return Next::NeedMore;
  }
  std::size_t end = nl;
  if (end > 0 && buffer_[end - 1] == '\r') {
    --end; // socat and telnet users send CRLF
  }
  line.assign(buffer_, 0, end);
  buffer_.erase(0, nl + 1);
  return Next::Line;
}

} // namespace rmha::core
