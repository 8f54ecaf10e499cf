#pragma once
// Loading the whole daemon configuration: every section's parser runs, then every key no
// parser took is refused as unknown. Throws core::ConfigError with all problems at once.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/sip/sip_config.h"

namespace rmha::daemon {

struct DaemonConfig {
  std::string file;
  core::ClusterConfig cluster;
  core::ControlConfig control;
  core::LogConfig log;
  /// The embedded resource manager; absent when the file has no [sip] section (the node then
  /// runs the HA engine alone, as in the HA lab).
  std::optional<core::sip::SipConfig> sip;
  /// Every key of the resource manager's sections, to tell whether a reload changes them.
  std::string sipFingerprint;
  /// The line of each [cluster] key that names an interface (vip-interface, monitor-nics),
  /// for the host check's warnings; absent keys are not listed.
  std::map<std::string, int> interfaceKeyLines;
};

/// This host's IP addresses (for local-member = auto).
std::vector<std::string> localAddresses();

DaemonConfig loadDaemonConfig(const std::string& path);
/// The same from text (tests): `localAddrs` stands in for the host's addresses.
DaemonConfig parseDaemonConfig(std::string_view text, const std::string& name,
                               const std::vector<std::string>& localAddrs);

/// `--check-config` on this host: one "FILE:LINE: warning: ..." line per interface or MAC the
/// configuration names that this host does not have (or one saying the interfaces could not
/// be listed). Warnings only: the file may be meant for another host.
std::vector<std::string> hostWarnings(const DaemonConfig& c);

/// What a reload of `fresh` over `running` does: the answer of `rmhactl reload` ("applied",
/// "refused", and "message" or "error"). Only the log level is applied at run time; every
/// other change needs a restart and is refused, the running node left as it is.
nlohmann::json reloadOutcome(const DaemonConfig& running, const DaemonConfig& fresh);

/// One line per setting that matters, for --check-config and the start-up log.
std::string describe(const DaemonConfig& c);

} // namespace rmha::daemon
