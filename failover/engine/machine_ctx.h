#pragma once
// What one event's handling carries through the HA engine's rules (private to
// machine.cc and handlers.cc).
#include <string>

#include "failover/engine/machine.h"

namespace rmha::failover {

using action::AcquireTraffic;
using action::CompleteCommand;
using action::ReassertTraffic;
using action::ReleaseTraffic;
using action::SendToPeer;

struct HaStateMachine::Ctx {
  HaEvent event;
  const EventInput& in;
  core::MonotonicTime now;
  Transition t;

  void go(HaState next, std::string why) {
    t.to = next;
    t.reason = std::move(why);
  }
  void act(Action a) { t.actions.push_back(std::move(a)); }
};

} // namespace rmha::failover
