// Picks the deployment shape's composition (see shape.h).
#include "failover/daemon/shape.h"

#include <stdexcept>

namespace rmha::daemon {

Shape shapeOf(const core::ClusterConfig& c) {
  switch (c.haMode) {
  case core::HaMode::None: return Shape::Standalone;
  case core::HaMode::ActiveActive: return Shape::ActiveActive;
  case core::HaMode::ActiveStandby: break;
  }
  // The configuration refuses an active-standby pair without steering, and NLB steering on
  // a build that has none (core/cluster_config.cc).
  if (c.steering != core::SteeringKind::Vip) {
    throw std::logic_error("active-standby without VIP steering passed validation");
  }
  return Shape::ActiveStandbyVip;
}

std::string_view toString(Shape s) {
  switch (s) {
  case Shape::Standalone: return "standalone";
  case Shape::ActiveStandbyVip: return "active-standby with a virtual IP";
  case Shape::ActiveActive: return "active-active behind a load balancer";
  }
  return "?";
}

ShapeParts buildShape(Shape s, const core::ClusterConfig& c, boost::asio::io_context& io,
                      core::TimerFactory& timers) {
  switch (s) {
  case Shape::Standalone: return buildStandalone(c, io, timers);
  case Shape::ActiveStandbyVip: return buildActiveStandbyVip(c, io, timers);
  case Shape::ActiveActive: return buildActiveActive(io);
  }
  throw std::logic_error("unknown deployment shape");
}

} // namespace rmha::daemon
