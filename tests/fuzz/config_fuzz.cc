// libFuzzer: the configuration loader (INI reader, every section's parser, cross-checks).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "failover/daemon/daemon_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)rmha::daemon::parseDaemonConfig(text, "fuzz.conf", {"192.0.2.11"});
  } catch (const rmha::core::ConfigError&) {
    // Refusals are the expected outcome for most inputs.
  }
  return 0;
}
