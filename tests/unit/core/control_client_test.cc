// rmhactl status: every field is optional and type-checked. A node without [sip] sends no
// "replication" (reading it once aborted rmhactl under ASan); a damaged answer prints, never
// crashes.
#include <gtest/gtest.h>

#include "core/control_client.h"

namespace rmha::core {
namespace {

using nlohmann::json;

// A status of a node without [sip], as the daemon sends it (docs/control-protocol.md).
json statusWithoutSip() {
  return json::parse(R"({
    "ok": true, "pid": 1, "role": "standby", "serving": false, "fit": true, "fit_reason": "",
    "sessions": 0, "steering": "vip 192.0.2.100/24 on eth0",
    "node": {"member": 2, "mode": "active-standby", "preempt": false, "priority": 100},
    "peer": {"known": true, "channel": "up", "member": 1, "role": "active", "priority": 100,
             "fit": true, "alive": true, "last_heard_ms": 2.5, "last_path": 0, "sessions": 0},
    "last_transition": {"time_us": 1795582275206826, "from": "waiting", "to": "standby",
                        "event": "peer-heartbeat", "reason": "peer (member 1) is active"},
    "transitions": [],
    "nics": [{"selector": "eth0", "name": "eth0", "healthy": true, "bond_active_slave": ""}],
    "counters": {"transitions": 2, "reasserts": 0,
                 "peer": {"sent": 5, "received": 4, "dropped": {"bad-auth": 1, "stale": 2}},
                 "control": {"clients": 1, "refused_full": 3, "refused_no_fds": 0,
                             "evicted_idle": 4, "request_timeouts": 1, "idle_timeouts": 1}}
  })");
}

TEST(ControlClient, StatusOfANodeWithoutSipPrintsWithoutReplication) {
  const auto text = formatStatus(statusWithoutSip());
  EXPECT_NE(text.find("role         standby\n"), std::string::npos) << text;
  EXPECT_NE(text.find("peer         member 1 active, priority 100, fit"), std::string::npos);
  EXPECT_NE(text.find("dropped 3"), std::string::npos);
  EXPECT_NE(text.find("control      1 client(s); refused 3 (cap)"), std::string::npos) << text;
  EXPECT_EQ(text.find("replication"), std::string::npos);
}

TEST(ControlClient, StatusWithReplicationPrintsIt) {
  auto j = statusWithoutSip();
  j["replication"] = {{"state", "in-sync"}, {"role", "source"}, {"seq", 9}, {"acked_seq", 9},
                      {"lag_ms", {{"p50", 0.25}}}, {"sessions", 3},
                      {"counters", {{"records_refused", 0}}}};
  const auto text = formatStatus(j);
  EXPECT_NE(text.find("replication  in-sync, streaming: seq 9, last acked 9, lag p50 0.25 ms "
                      "p99 - ms, 3 session(s)"),
            std::string::npos)
      << text;
}

TEST(ControlClient, MissingOrMistypedFieldsNeverThrow) {
  const json odd[] = {
      json(nullptr), json::array(), json("status"), json::object(),
      json::parse(R"({"role": 5, "node": "x", "fit": "yes", "peer": [1], "nics": {"a": 1},
                     "last_transition": {"time_us": "now"}, "counters": 7, "replication": 1})"),
      json::parse(R"({"peer": {"known": true, "alive": false, "last_heard_ms": "x"},
                     "nics": [5, null, {"name": 1}], "sessions": 1e300,
                     "last_transition": {"time_us": -1e300},
                     "replication": {"state": "behind", "behind": "many", "lag_ms": 3,
                                     "counters": null},
                     "counters": {"peer": {"dropped": {"x": -1, "y": "z"}}, "control": []}})"),
  };
  for (const auto& j : odd) {
    SCOPED_TRACE(j.dump());
    std::string text;
    EXPECT_NO_THROW(text = formatStatus(j));
    EXPECT_NE(text.find("role"), std::string::npos);
  }
}

TEST(ControlClient, FieldReadersTolerateAnything) {
  const auto j = json::parse(R"({"s": "x", "b": true, "i": 7, "u": 18446744073709551615,
                                 "f": 2.9, "huge": 1e300})");
  EXPECT_EQ(jsonString(j, "s"), "x");
  EXPECT_EQ(jsonString(j, "i", "?"), "?");
  EXPECT_TRUE(jsonBool(j, "b", false));
  EXPECT_FALSE(jsonBool(j, "s", false));
  EXPECT_EQ(jsonInt(j, "i"), 7);
  EXPECT_EQ(jsonInt(j, "f"), 2);
  EXPECT_EQ(jsonInt(j, "huge", -5), -5);
  EXPECT_EQ(jsonDouble(j, "missing", 1.5), 1.5);
  EXPECT_TRUE(jsonField(json(3), "s").is_null());
}

} // namespace
} // namespace rmha::core
