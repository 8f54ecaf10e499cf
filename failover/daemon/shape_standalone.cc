// Standalone: one node, no peer; it serves once started. It steers nothing, unless the
// configuration gives it a VIP to hold (traffic-steering = vip), which it then holds alone.
#include "failover/daemon/shape.h"
#include "netlink/no_steering.h"

namespace rmha::daemon {

ShapeParts buildStandalone(const core::ClusterConfig& c, boost::asio::io_context& io,
                           core::TimerFactory& timers) {
  ShapeParts p;
  if (c.steering == core::SteeringKind::Vip) {
    p.steering = vipSteering(c, io, timers);
  } else {
    p.steering = std::make_unique<netlink::NoSteering>(io.get_executor(), "none");
  }
  return p;
}

} // namespace rmha::daemon
