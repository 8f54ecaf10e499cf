// Active-standby with a virtual IP (Linux): the active holds the VIP on its service NIC and
// announces it with gratuitous ARP; the standby holds nothing. netlink::VipSteering does the
// claim (probe, add, GARP burst, refresh) and the release.
#include "failover/daemon/shape.h"
#include "netlink/vip_steering.h"

namespace rmha::daemon {

namespace {

netlink::VipOptions vipOptions(const core::ClusterConfig& c) {
  netlink::VipOptions o;
  o.address = c.virtualIp;
  o.prefixLength = static_cast<unsigned>(c.virtualIpPrefix);
  o.interfaceName = c.vipInterface;
  o.lifetime = c.vipLifetime;
  o.probe = c.arpProbe;
  o.probeWait = c.arpProbeWait;
  o.garpCount = static_cast<unsigned>(c.garpCount);
  o.garpInterval = c.garpInterval;
  o.garpRepeatAfter = c.garpRepeatAfter;
  o.garpRefresh = c.garpRefresh;
  o.garpForm = c.garpForm;
  // Probe answers from the peer's MACs are its leftover VIP, not a third station.
  const auto peer = static_cast<std::size_t>(c.peerMember() - 1);
  for (const auto& hp : {c.member[peer], c.altMember[peer]}) {
    if (hp && !hp->v6) {
      o.peerAddresses.push_back(hp->ip);
    }
  }
  return o;
}

} // namespace

std::unique_ptr<core::TrafficSteering> vipSteering(const core::ClusterConfig& c,
                                                   boost::asio::io_context& io,
                                                   core::TimerFactory& timers) {
  return std::make_unique<netlink::VipSteering>(io, vipOptions(c), timers);
}

ShapeParts buildActiveStandbyVip(const core::ClusterConfig& c, boost::asio::io_context& io,
                                 core::TimerFactory& timers) {
  ShapeParts p;
  p.steering = vipSteering(c, io, timers);
  return p;
}

} // namespace rmha::daemon
