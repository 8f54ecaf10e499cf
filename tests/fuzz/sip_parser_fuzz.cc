// libFuzzer target for the SIP parser, the stream framer and the forwarding serialiser:
// whatever the bytes, they must never crash, hang, leak or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/sip/builder.h"
#include "core/sip/parser.h"

using namespace rmha::core::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A private, exactly-sized copy: the parser writes into it, and ASan sees any overrun.
  std::vector<char> buf(data, data + size);
  static SipMessage msg;
  static std::string out;
  (void)findFrame(std::string_view(buf.data(), buf.size()), 65535);
  const auto st = parseMessage(std::span<char>(buf.data(), buf.size()), msg);
  if (!st.ok()) {
    if (std::strlen(st.reason) == 0) {
      __builtin_trap();
    }
    return 0;
  }
  if (msg.size > size) {
    __builtin_trap();
  }
  // Exercise what the proxy does with a good message.
  ForwardEdits edits;
  edits.requestUri = "sip:mcp@198.51.100.7:5070";
  edits.via = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKfuzz";
  edits.recordRoute = "<sip:192.0.2.10:5060;lr>";
  edits.popRoute = true;
  edits.removeTopVia = !msg.isRequest;
  edits.decrementMaxForwards = msg.isRequest;
  serialiseForward(msg, edits, out);
  if (msg.isRequest) {
    buildResponse(msg, 400, "Bad Request", "totag", {}, out);
  }
  // The serialised forward must itself parse.
  std::vector<char> again(out.begin(), out.end());
  SipMessage reparsed;
  (void)parseMessage(std::span<char>(again.data(), again.size()), reparsed);
  return 0;
}
