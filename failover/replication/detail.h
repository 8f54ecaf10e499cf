#pragma once
// Helpers shared by the replicator's source files; not part of its interface.
#include <cstddef>
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "failover/replication/codec.h"

namespace rmha::failover::detail {

/// Lag samples kept (a ring): the status's percentiles are over these.
inline constexpr std::size_t kLagSamples = 4096;

/// A stream id as logged and shown.
inline std::string hex(std::uint64_t v) { return fmt::format("{:016x}", v); }

/// A record without session or text: Ack, Resume, Bulk*, SyncRequest.
inline Record control(RecordType type, std::uint64_t stream, std::uint64_t seq,
                      std::uint64_t count = 0) {
  Record r;
  r.type = type;
  r.stream = stream;
  r.seq = seq;
  r.count = count;
  return r;
}

} // namespace rmha::failover::detail
