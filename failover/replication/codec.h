#pragma once
// The replication stream's wire format: what rides in one channel payload. Pure: no I/O.
//
//   payload = version (u8) | record | record | ...
//   record  = type (u8) | body length (u32) | body
//   bodies (integers big-endian, strings as u16 length + bytes):
//     Upsert     stream u64 | seq u64 | session
//     Remove     stream u64 | seq u64 | call-id
//     Ack        stream u64 | applied seq u64
//     Resume     stream u64 | applied seq u64 | highest format version understood (u8)
//     BulkBegin  stream u64 | snapshot seq u64 | sessions u64
//     BulkItem   session
//     BulkEnd    stream u64 | snapshot seq u64 | sessions u64
//     Resync     reason (string)
//     session  = call-id | from-tag | to-tag | server | route-set | cseq u32 | state u8 |
//                created µs i64 | updated µs i64
//
// A receiver that meets a version it does not know, an unknown record type or a body that
// does not parse refuses the rest of the payload (the records before it stand) and asks for a
// full resync. A newer sender talks the version the receiver's Resume announced.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/session.h"

namespace rmha::failover {

inline constexpr std::uint8_t kReplicationVersion = 1;
inline constexpr std::size_t kMaxReplicatedString = 8192;

enum class RecordType : std::uint8_t {
  Upsert = 1,
  Remove = 2,
  Ack = 3,
  Resume = 4,
  BulkBegin = 5,
  BulkItem = 6,
  BulkEnd = 7,
  Resync = 8,
  SyncRequest = 9,  ///< source -> sink: acknowledge at once (someone waits for the peer)
};
std::string_view toString(RecordType t);

struct Record {
  RecordType type = RecordType::Upsert;
  std::uint64_t stream = 0;
  std::uint64_t seq = 0;        ///< Upsert/Remove: its number; Ack/Resume: applied; Bulk*: snapshot;
                                ///< SyncRequest: the last record sent
  std::uint64_t count = 0;      ///< BulkBegin/BulkEnd: sessions; Resume: highest version known;
                                ///< Ack: µs the sink held record `seq` before acknowledging it
  core::Session session;   ///< Upsert, BulkItem
  std::string text;             ///< Remove: the Call-ID; Resync: the reason
};

/// Builds one payload record by record.
class PayloadWriter {
public:
  PayloadWriter() { reset(); }
  /// Appends a record. Strings longer than kMaxReplicatedString are cut (never sent as such).
  void add(const Record& r);
  /// Appends an already encoded record (from the backlog).
  void addEncoded(std::span<const std::uint8_t> record);
  bool empty() const { return bytes_.size() <= 1; }
  std::size_t size() const { return bytes_.size(); }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }
  void reset();

private:
  std::vector<std::uint8_t> bytes_;
};

/// One record encoded on its own (type, length, body), as PayloadWriter::addEncoded takes it.
std::vector<std::uint8_t> encodeRecord(const Record& r);

enum class PayloadError : std::uint8_t {
  None,
  Empty,
  UnknownVersion,
  Truncated,
  UnknownType,
  BadBody,
};
std::string_view toString(PayloadError e);

struct PayloadDecode {
  std::vector<Record> records;  ///< the records before the first error
  PayloadError error = PayloadError::None;
  std::uint8_t version = 0;
  std::size_t failedIndex = 0;  ///< index of the record that failed (== records.size())
};

/// Decodes a whole payload; never throws, whatever the bytes.
PayloadDecode decodePayload(std::span<const std::uint8_t> payload);

/// Everything of a session that matters to the peer (updatedUs is rewritten on every upsert).
bool sameSession(const core::Session& a, const core::Session& b);

} // namespace rmha::failover
