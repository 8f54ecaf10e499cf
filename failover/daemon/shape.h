#pragma once
// One composition per deployment shape. What differs between rmha's shapes is how the
// traffic reaches the node that serves it, so each shape is one small file that builds its
// steering; the composition root (daemon.cc) builds everything else the same way for all.
// A new shape (Windows NLB, an active-active variant) adds a file and a case in shape.cc,
// not branches in daemon.cc.
//
//   shape                      file                        steering
//   standalone                 shape_standalone.cc         none (or a VIP, if configured)
//   active-standby, VIP        shape_active_standby_vip.cc netlink::VipSteering (ARP/GARP)
//   active-active              shape_active_active.cc      none: the load balancer decides
#include <memory>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "core/config.h"
#include "core/ports.h"
#include "core/timer.h"

namespace rmha::daemon {

enum class Shape { Standalone, ActiveStandbyVip, ActiveActive };

/// The shape a validated configuration describes.
Shape shapeOf(const core::ClusterConfig& c);
std::string_view toString(Shape s);

/// What a shape builds on the HA thread's loop (`io`, `timers`).
struct ShapeParts {
  std::unique_ptr<core::TrafficSteering> steering;
};

ShapeParts buildShape(Shape s, const core::ClusterConfig& c, boost::asio::io_context& io,
                      core::TimerFactory& timers);

// One per shape file.
ShapeParts buildStandalone(const core::ClusterConfig& c, boost::asio::io_context& io,
                           core::TimerFactory& timers);
ShapeParts buildActiveStandbyVip(const core::ClusterConfig& c, boost::asio::io_context& io,
                                 core::TimerFactory& timers);
ShapeParts buildActiveActive(boost::asio::io_context& io);
/// The VIP steering of `c` (shape_active_standby_vip.cc), for any shape that holds a VIP.
std::unique_ptr<core::TrafficSteering> vipSteering(const core::ClusterConfig& c,
                                                   boost::asio::io_context& io,
                                                   core::TimerFactory& timers);

} // namespace rmha::daemon
