// Active-active (the GVP guide's SIP Server or external load balancer shapes): both nodes
// serve and the load balancer decides which gets a call, so the node steers nothing.
#include "failover/daemon/shape.h"
#include "netlink/no_steering.h"

namespace rmha::daemon {

ShapeParts buildActiveActive(boost::asio::io_context& io) {
  ShapeParts p;
  p.steering = std::make_unique<netlink::NoSteering>(io.get_executor(),
                                                     "none: the load balancer owns the traffic");
  return p;
}

} // namespace rmha::daemon
