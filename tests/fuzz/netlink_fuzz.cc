// libFuzzer target for what rmha reads from the kernel and the wire on Linux: rtnetlink
// datagrams (parseNetlinkDatagram, and the NIC watchdog's tracker fed with them) and ARP
// frames (parseArpFrame). Whatever the bytes, they must never crash, hang, leak or read out
// of bounds.
//
// Input: the first byte chooses the parser (even: netlink datagram, odd: ARP frame), the rest
// is the datagram or frame. The seeds in corpus/netlink_fuzz/ are real link dumps, built
// bond messages, dump ends and errors, and ARP probes, requests, replies and GARPs.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "netlink/garp_frame.h"
#include "netlink/link_message.h"
#include "netlink/nic_tracker.h"
#include "tests/fakes/fake_clock.h"

using namespace rmha::netlink;

namespace {

// A private, exactly-sized heap copy: aligned like a receive buffer, and ASan sees any read
// past its end.
std::unique_ptr<std::uint8_t[]> copyOf(const std::uint8_t* data, std::size_t size) {
  auto buf = std::make_unique<std::uint8_t[]>(size == 0 ? 1 : size);
  if (size > 0) {
    std::memcpy(buf.get(), data, size);
  }
  return buf;
}

void fuzzNetlink(const std::uint8_t* data, std::size_t size) {
  auto buf = copyOf(data, size);
  const auto batch = parseNetlinkDatagram(buf.get(), size);
  std::size_t sum = batch.malformed + batch.doneSeqs.size() + batch.errors.size();
  for (const auto& link : batch.links) {
    sum += link.name.size() + link.mac.size() + link.kind.size() + link.slaveKind.size();
    sum += static_cast<std::size_t>(link.adminUp()) + static_cast<std::size_t>(link.lowerUp());
  }
  // The watchdog's pure half on the same bytes: selection by name and by MAC, bonds, removal.
  rmha::test::FakeClock clock;
  NicTrackerOptions options;
  options.selectors = {"eth0", "02:00:5e:00:53:01", "bond0"};
  NicTracker tracker(options, clock);
  tracker.finishInitialLoad();
  (void)tracker.handleDatagram(buf.get(), size);
  clock.advance(rmha::core::Millis(1000));
  sum += static_cast<std::size_t>(tracker.healthy()) + tracker.nics().size();
  if (sum == static_cast<std::size_t>(-1)) {
    __builtin_trap();  // keeps the results alive
  }
}

void fuzzArp(const std::uint8_t* data, std::size_t size) {
  auto buf = copyOf(data, size);
  const auto arp = parseArpFrame(buf.get(), size);
  if (!arp) {
    return;
  }
  if (size < 42) {
    __builtin_trap();  // an Ethernet + IPv4 ARP frame is at least 42 bytes
  }
  // Round trip: what we parsed, we can build and parse back to the same fields.
  const auto frame = buildArp(arp->op, kBroadcastMac, arp->senderMac, arp->senderIp,
                              arp->targetMac, arp->targetIp);
  const auto again = parseArpFrame(frame.data(), frame.size());
  if (!again || again->op != arp->op || again->senderMac != arp->senderMac ||
      again->senderIp != arp->senderIp || again->targetMac != arp->targetMac ||
      again->targetIp != arp->targetIp) {
    __builtin_trap();
  }
  (void)toString(arp->senderMac);
  (void)toString(arp->targetIp);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  if ((data[0] & 1) == 0) {
    fuzzNetlink(data + 1, size - 1);
  } else {
    fuzzArp(data + 1, size - 1);
  }
  return 0;
}
