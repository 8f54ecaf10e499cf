#pragma once
// The SIP message parser (RFC 3261 section 7 and 25). Zero-copy: the SipMessage holds views
// into the caller's buffer, which must outlive it. Bad input yields a reason, never a crash.
#include <cstddef>
#include <span>
#include <string_view>

#include "core/sip/message.h"
#include "core/sip/syntax.h"

namespace rmha::core::sip {

/// Most header lines accepted in one message (a message with more is refused).
inline constexpr std::size_t kMaxHeaders = 256;

/// Parses one complete message in `buf`. Continuation lines are unfolded in place. On
/// success `out.size` is the number of bytes the message used (bytes beyond Content-Length
/// are ignored, as RFC 3261 18.3 asks of datagrams).
Status parseMessage(std::span<char> buf, SipMessage& out);

/// Result of looking for one message in a stream (TCP framing by Content-Length).
struct Frame {
  enum class Kind { NeedMore, Complete, Error } kind = Kind::NeedMore;
  std::size_t skip = 0;    ///< leading CRLF keep-alive bytes to discard first
  std::size_t length = 0;  ///< message bytes after `skip` when Complete
  const char* reason = nullptr;
};

/// Finds the first message in `data`; refuses one larger than `maxSize`.
Frame findFrame(std::string_view data, std::size_t maxSize);

} // namespace rmha::core::sip
