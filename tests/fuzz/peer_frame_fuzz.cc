// libFuzzer: peer-link frames (decode with and without a valid MAC) and the replay guard.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "failover/peer/protocol.h"

namespace {
constexpr std::string_view kKey = "fuzz-key-0123456789abcdef";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rmha::failover;
  (void)decodePeerMessage({data, size}, kKey);
  // Re-sign the input so that the fields behind the MAC are reached too.
  if (size >= kPeerFrameSize) {
    PeerMessage m;
    m.kind = static_cast<PeerMsgKind>(data[5]);
    m.member = data[6];
    m.state = static_cast<HaState>(data[7] % 16);
    m.priority = data[8];
    m.flags = data[9];
    std::memcpy(&m.epoch, data + 16, 8);
    std::memcpy(&m.seq, data + 24, 8);
    const auto f = encodePeerMessage(m, kKey);
    const auto r = decodePeerMessage(f, kKey);
    static ReplayGuard guard(std::chrono::milliseconds(60));
    if (r.message) {
      PeerDrop why{};
      (void)guard.accept(r.message->epoch, r.message->seq,
                         rmha::core::MonotonicTime{} + std::chrono::milliseconds(data[0]), why);
    }
  }
  return 0;
}
