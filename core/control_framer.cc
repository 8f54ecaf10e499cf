#include "core/control_framer.h"

namespace rmha::core {

bool ControlFramer::append(std::string_view bytes) {
  if (overflow_ || buffered() + bytes.size() > max_) {
    overflow_ = true;
    buffer_.clear(); // nothing more of this connection is served
    start_ = scanned_ = 0;
    return false;
  }
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    // Lines handed out make up half the buffer or more: drop them (each byte moves at most
    // once this way, as the rest is always smaller than what is dropped).
    buffer_.erase(0, start_);
    scanned_ -= start_;
    start_ = 0;
  }
  buffer_.append(bytes);
  return true;
}

ControlFramer::Next ControlFramer::next(std::string& line) {
  if (overflow_) {
    return Next::TooLong;
  }
  const auto nl = buffer_.find('\n', scanned_);
  examined_ += (nl == std::string::npos ? buffer_.size() : nl + 1) - scanned_;
  if (nl == std::string::npos) {
    scanned_ = buffer_.size();
    return Next::NeedMore;
  }
  std::size_t end = nl;
  if (end > start_ && buffer_[end - 1] == '\r') {
    --end; // socat and telnet users send CRLF
  }
  line.assign(buffer_, start_, end - start_);
  start_ = scanned_ = nl + 1;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = scanned_ = 0;
  }
  return Next::Line;
}

} // namespace rmha::core
